"""`POST /v1/products/{code}`: take a contribution, publish it when callers agree.

In order, cheapest first: the caller must be known and `community` in use; the body
and the code are checked (400 with `invalid_params`; restricted numbers are refused);
the image, when named, must be the caller's own finished `product_image` upload; the
code must be unknown today (`_check_unknown`, 409 `already_known` otherwise); then the
caller's contribution of the day is counted (429) and the contribution is stored
(201), published at once if COMMUNITY_CONFIRMATIONS distinct callers now agree, and
shared with Open Food Facts when it asks to be.

"Unknown today" is what the caller's own lookup of the code says, run through the
lookup service: the catalog and a cached answer count (free), the caller's own pending
contribution does not, and providers are asked only when nothing is cached, charged
to the contributor's own daily lookup budget (never anybody else's), single-flight
with every other lookup of the code. A provider listed after `community` that cannot
answer (no key, quota) does not stop a contribution: the community answers before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..cache import CachedLookup
from ..callers import Caller
from ..errors import (
    AlreadyKnown,
    ContributionRefused,
    InvalidGtin,
    InvalidParameter,
    NotFound,
    ServiceError,
)
from ..gtin import Gtin
from ..lookup import LookupService
from ..observability import count, logger
from ..providers import COMMUNITY
from ..providers.community import community_product
from ..router import Budget
from ..uploads.jobs import JobStore
from .model import (
    ATTRIBUTION,
    MAX_CONTRIBUTIONS,
    CodeRecord,
    Contribution,
    ShareState,
    iso,
)
from .request import ContributionRequest, parse_contribution
from .share import Sharing
from .store import CommunityStore, DailyLimit

_ANSWERED = ("found", "not_found", "not_served")
NOT_REQUESTED = {"status": "not_requested", "reason": "the request did not ask to share it"}


class ResultCache(Protocol):
    """The lookup cache as publication writes it (cache.DynamoLookupStore)."""

    def put_result_unless_found(
        self, gtin14: str, entry: CachedLookup, *, stale_grace: int
    ) -> bool: ...

    def forget_result(self, gtin14: str, provider: str) -> None: ...


@dataclass(frozen=True)
class Publisher:
    """Makes a publication (or its withdrawal) everyone's answer at once: the cached
    answer of the code becomes the community's, unless another provider's is cached."""

    cache: ResultCache
    found_ttl: int
    stale_grace: int
    clock: Callable[[], float] = time.time

    def published(self, record: CodeRecord) -> None:
        contribution = record.answer_for(None)
        if contribution is None:
            return
        answer = community_product(record, contribution)
        now = int(self.clock())
        entry = CachedLookup(
            "found",
            answer.fields(),
            now,
            now + self.found_ttl,
            provider=COMMUNITY,
            attribution=ATTRIBUTION,
            details=dict(answer.details),
        )
        if not self.cache.put_result_unless_found(
            record.gtin14, entry, stale_grace=self.stale_grace
        ):
            logger.info("a provider's answer stays cached over a publication")

    def withdrawn(self, gtin14: str) -> None:
        self.cache.forget_result(gtin14, COMMUNITY)


@dataclass(frozen=True)
class Contributed:
    """The answer to a contribution: 201 for a new or changed one, 200 for a repeat."""

    status: int
    body: dict[str, Any]


class CommunityService:
    """Takes contributions; shared by nothing else (operators use `operator.py`)."""

    def __init__(
        self,
        lookups: LookupService,
        store: CommunityStore,
        limit: DailyLimit,
        *,
        jobs: JobStore,
        publisher: Publisher,
        sharing: Callable[[], Sharing],
        confirmations: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lookups = lookups
        self.store = store
        self.limit = limit
        self.jobs = jobs
        self.publisher = publisher
        self.sharing = sharing
        self.needed = confirmations
        self.clock = clock

    def contribute(
        self,
        code: str,
        format_name: str | None,
        caller: Caller,
        body: Mapping[str, Any],
        *,
        budget: Budget | None = None,
    ) -> Contributed:
        """Store `caller`'s description of `code` (see the module docstring for the order);
        `budget` is the caller's daily lookup budget, which pays for the check."""
        if COMMUNITY not in self.lookups.provider_names:
            raise ContributionRefused(
                "the community catalog is not in use here (LOOKUP_PROVIDERS has no 'community')"
            )
        if not caller.known:
            raise ContributionRefused("contributions need an API key or a signed-in user")
        request = parse_contribution(body)
        gtin = self._gtin(code, format_name)
        image_url = self._image(request.image_upload_id, caller.key)
        self._check_unknown(gtin, caller.key, budget)
        existing = self.store.get(gtin.gtin14, consistent=True) or CodeRecord(gtin.gtin14)
        own = existing.of(caller.key)
        if own is not None and _repeats(own, request, image_url):
            return Contributed(200, self.answer(gtin, existing, caller.key))
        if own is None and len(existing.contributions) >= MAX_CONTRIBUTIONS:
            raise ContributionRefused(
                f"this code has {MAX_CONTRIBUTIONS} contributions waiting for an operator"
            )
        day = self.limit.take(caller.key)
        try:
            record = self._store(gtin, caller.key, request, image_url)
        except ServiceError:
            self.limit.give_back(caller.key, day)
            raise
        count("CommunityContribution")
        if record.published is not None:
            count("CommunityPublished")
            self.publisher.published(record)
        if request.share:
            self.sharing().first_attempt(record, caller.key)
            record = self.store.get(gtin.gtin14, consistent=True) or record
        return Contributed(201, self.answer(gtin, record, caller.key))

    # --- checks ----------------------------------------------------------------------------

    def _gtin(self, code: str, format_name: str | None) -> Gtin:
        try:
            gtin = self.lookups.canonical_gtin(code, format_name)
        except InvalidGtin as error:
            raise error.about("code") from None
        except InvalidParameter as error:
            raise error.about("format") from None
        if gtin.restricted:
            raise InvalidGtin(gtin.restriction_reason()).about("code")
        return gtin

    def _image(self, upload_id: str | None, caller: str) -> str | None:
        """The stored image of the caller's own finished `product_image` upload."""
        if upload_id is None:
            return None
        job = self.jobs.get(upload_id)
        mine = job is not None and job.owner == caller and job.purpose == "product_image"
        if job is None or not mine:
            raise InvalidParameter(
                "no product_image upload of this API key or user has that id",
                field="image_upload_id",
            )
        url = (job.results or [{}])[0].get("image_url") if job.status == "done" else None
        if not url:
            state = job.error["detail"] if job.status == "failed" and job.error else job.status
            raise InvalidParameter(
                f"that upload holds no product image ({state})", field="image_upload_id"
            )
        return str(url)

    def _check_unknown(self, gtin: Gtin, caller: str, budget: Budget | None) -> None:
        """409 when a provider (or the catalog, or a publication) answers the code today."""
        outcome = self.lookups.resolve(gtin, budget=budget, caller=caller)
        product = outcome.product
        if product is not None:
            if product.provider == COMMUNITY and product.details.get("status") == "pending":
                return  # the caller's own contribution, which this one replaces
            known_by = product.provider or product.source
            raise AlreadyKnown(
                f"{gtin.code} is already answered by {known_by}; it takes no contribution",
                extra={"gtin": gtin.gtin14, "provider": product.provider, "source": product.source},
            )
        error = outcome.error
        if isinstance(error, NotFound) or error is None:
            return
        ahead = self.lookups.provider_names[: self.lookups.provider_names.index(COMMUNITY)]
        states = error.extra.get("providers")
        if not isinstance(states, list) or any(
            state.get("name") in ahead and state.get("outcome") not in _ANSWERED for state in states
        ):
            raise error  # a provider that answers before the community could not say

    # --- the write -------------------------------------------------------------------------

    def _store(
        self, gtin: Gtin, caller: str, request: ContributionRequest, image_url: str | None
    ) -> CodeRecord:
        now = int(self.clock())

        def contribute(record: CodeRecord) -> CodeRecord:
            if record.published is not None:  # published by someone else since the check
                raise AlreadyKnown(
                    f"{gtin.code} was published by the community meanwhile",
                    extra={"gtin": gtin.gtin14, "provider": COMMUNITY, "source": "upstream"},
                )
            earlier = record.of(caller)
            contribution = Contribution(
                contributor=caller,
                description=request.description,
                contributed_at=earlier.contributed_at if earlier is not None else now,
                updated_at=now,
                image_url=image_url,
                share=ShareState("queued", "waiting for its first attempt")
                if request.share
                else None,
            )
            record = record.with_contribution(contribution)
            key = contribution.agreement_key
            if record.confirmations(key) >= self.needed:
                record = record.publish(
                    record.first_agreeing(key).contributor, by="confirmations", now=now
                )
            return record

        stored = self.store.change(gtin.gtin14, contribute)
        assert stored is not None
        return stored

    # --- the answer ------------------------------------------------------------------------

    def answer(self, gtin: Gtin, record: CodeRecord, caller: str) -> dict[str, Any]:
        """The contribution as `POST /v1/products/{code}` answers it."""
        own = record.of(caller)
        assert own is not None
        text = own.description
        return {
            "gtin": gtin.gtin14,
            "code": gtin.code,
            "format": gtin.format,
            "provider": COMMUNITY,
            "status": own.status,
            "confirmations": record.confirmations(own.agreement_key),
            "confirmations_needed": self.needed,
            "contribution": {**text.to_dict(), "image_url": own.image_url},
            "contributed_at": iso(own.contributed_at),
            "updated_at": iso(own.updated_at),
            "published_at": iso(record.published.published_at)
            if record.published is not None and own.status == "published"
            else None,
            "shared": own.share is not None and own.share.shared,
            "share": {"status": own.share.status, "reason": own.share.reason}
            if own.share is not None
            else NOT_REQUESTED,
        }


def _repeats(own: Contribution, request: ContributionRequest, image_url: str | None) -> bool:
    """Whether a request only repeats the caller's standing contribution (an app's retry)."""
    return (
        own.status != "rejected"
        and own.description == request.description
        and own.image_url == image_url
        and (own.share is not None) == request.share
    )
