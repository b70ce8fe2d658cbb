"""One code's community record: its contributions, their provenance, what is published.

A code has at most one contribution per caller (a caller who sends another replaces
their own). Contributions *agree* when their normalised name and brand are equal
(`agreement_key`: Unicode NFKC, case folded, every run of characters other than
letters and digits one space, trimmed; quantity and category do not count), and a
code is published when COMMUNITY_CONFIRMATIONS distinct callers agree, or when an
operator approves one of its contributions. What is published is the first agreeing
contribution's text exactly as its contributor sent it: texts are stored as given,
never merged with each other or with another provider's data.

The record is one item (`COMMUNITY#<gtin14>`) written whole under a version number, so
every change (a contribution, a share's outcome, an operator's decision) is one
conditional write that sees every other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .. import dynamo

ContributionStatus = Literal["pending", "published", "rejected"]
CodeState = Literal["pending", "published", "rejected"]
PublishedBy = Literal["confirmations", "operator"]
ShareStatus = Literal["accepted", "refused", "queued", "failed", "disabled"]

ATTRIBUTION = (
    "Described by users of this service's apps (community catalog); not checked by a "
    "product database."
)
PREFIX = "COMMUNITY#"
MAX_CONTRIBUTIONS = 50
"""Contributions one code keeps (its item stays far below DynamoDB's 400 KB)."""
_NOT_WORD = re.compile(r"[\W_]+")


def community_key(gtin14: str) -> str:
    """The `pk` of a code's community record."""
    return f"{PREFIX}{gtin14}"


def normalise(text: str | None) -> str:
    """`text` as contributions are compared: NFKC, case folded, words only, single spaces."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return _NOT_WORD.sub(" ", folded).strip()


def iso(epoch: int | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch is not None else None


@dataclass(frozen=True)
class Description:
    """What a contributor says about the product, as sent (trimmed, nothing else)."""

    name: str
    brand: str | None = None
    quantity: str | None = None
    category: str | None = None

    @property
    def agreement_key(self) -> str:
        """Equal for two descriptions that agree (normalised name and brand)."""
        both = f"{normalise(self.name)}\x1f{normalise(self.brand)}"
        return hashlib.sha256(both.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ShareState:
    """What became of sending a contribution to Open Food Facts."""

    status: ShareStatus
    reason: str
    attempts: int = 0
    updated_at: int = 0

    @property
    def shared(self) -> bool:
        return self.status == "accepted"

    def to_dict(self) -> dict[str, Any]:
        return {"shared": self.shared, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Contribution:
    """One caller's description of one code, with its provenance."""

    contributor: str  # callers.Caller.key: a hash, never a key id or user
    description: Description
    contributed_at: int  # epoch s of the first contribution of this caller for the code
    updated_at: int
    status: ContributionStatus = "pending"
    image_url: str | None = None
    share: ShareState | None = None  # None: the request did not ask to share

    @property
    def agreement_key(self) -> str:
        return self.description.agreement_key

    @property
    def counts(self) -> bool:
        """Whether it stands (it was not rejected)."""
        return self.status != "rejected"


@dataclass(frozen=True)
class Publication:
    """Which contribution everyone is answered with, since when, and why."""

    contributor: str
    published_at: int
    by: PublishedBy
    confirmations: int


@dataclass(frozen=True)
class CodeRecord:
    """Everything the community catalog holds about one code."""

    gtin14: str
    contributions: tuple[Contribution, ...] = ()
    published: Publication | None = None
    version: int = 0  # the stored version this record was read at (0: not stored)

    @property
    def state(self) -> CodeState:
        if self.published is not None:
            return "published"
        return "pending" if any(c.status == "pending" for c in self.contributions) else "rejected"

    def of(self, contributor: str) -> Contribution | None:
        """`contributor`'s contribution to this code, if they made one."""
        return next((c for c in self.contributions if c.contributor == contributor), None)

    def confirmations(self, agreement_key: str) -> int:
        """Distinct callers whose standing contributions agree on `agreement_key`."""
        return sum(1 for c in self.contributions if c.counts and c.agreement_key == agreement_key)

    def first_agreeing(self, agreement_key: str) -> Contribution:
        return next(c for c in self.contributions if c.counts and c.agreement_key == agreement_key)

    def with_contribution(self, contribution: Contribution) -> CodeRecord:
        """This record with `contribution` in place of its contributor's earlier one."""
        others = tuple(c for c in self.contributions if c.contributor != contribution.contributor)
        earlier = self.of(contribution.contributor)
        if earlier is None:
            return dataclasses.replace(self, contributions=(*others, contribution))
        kept = tuple(contribution if c is earlier else c for c in self.contributions)
        return dataclasses.replace(self, contributions=kept)

    def publish(self, contributor: str, *, by: PublishedBy, now: int) -> CodeRecord:
        """Everyone is answered with `contributor`'s text from now on; the contributions
        that agree with it are published with it."""
        chosen = self.of(contributor)
        assert chosen is not None
        key = chosen.agreement_key
        publication = Publication(contributor, now, by, self.confirmations(key))
        contributions = tuple(
            dataclasses.replace(c, status="published", updated_at=now)
            if c.counts and c.agreement_key == key
            else c
            for c in self.contributions
        )
        return dataclasses.replace(self, contributions=contributions, published=publication)

    def reject(self, contributor: str | None, *, now: int) -> CodeRecord:
        """`contributor`'s contribution (every one when None) rejected; a published text
        that is rejected is no longer published."""
        published = self.published
        if published is not None and contributor in (None, published.contributor):
            published = None  # its agreeing contributions wait for an operator again
        contributions = tuple(
            dataclasses.replace(c, status="rejected", updated_at=now)
            if contributor in (None, c.contributor)
            else dataclasses.replace(c, status="pending")
            if c.status == "published" and published is None
            else c
            for c in self.contributions
        )
        return dataclasses.replace(self, contributions=contributions, published=published)

    def shared(self, contributor: str, share: ShareState) -> CodeRecord:
        """This record with what became of `contributor`'s share."""
        own = self.of(contributor)
        if own is None:
            return self
        return self.with_contribution(dataclasses.replace(own, share=share))

    # --- answers -------------------------------------------------------------------------

    def answer_for(self, caller: str | None) -> Contribution | None:
        """The contribution a lookup by `caller` is answered with: the published one for
        everyone, else `caller`'s own pending one; None when neither exists."""
        if self.published is not None:
            return self.of(self.published.contributor)
        own = self.of(caller) if caller else None
        return own if own is not None and own.status == "pending" else None

    def details(self, contribution: Contribution) -> dict[str, Any]:
        """`details` of a community answer (documented in docs/api.md)."""
        published = self.published if contribution.status == "published" else None
        return {
            "status": "published" if published is not None else "pending",
            "confirmations": self.confirmations(contribution.agreement_key),
            "category": contribution.description.category,
            "quantity": contribution.description.quantity,
            "contributed_at": iso(contribution.contributed_at),
            "published_at": iso(published.published_at) if published else None,
            "published_by": published.by if published else None,
        }

    # --- the item ---------------------------------------------------------------------------

    def to_item(self, now: int) -> dict[str, Any]:
        """The stored item (DynamoDB's typed form) at the next version."""
        values: dict[str, Any] = {
            "pk": community_key(self.gtin14),
            "gtin": self.gtin14,
            "community_state": self.state,  # the operators' index (CommunityByState) ...
            "community_updated": now,  # ... sorted by the last change
            "version": self.version + 1,
            "contributions": [_contribution_item(c) for c in self.contributions],
            "published": dataclasses.asdict(self.published) if self.published else None,
        }
        return dynamo.to_item(values)

    @classmethod
    def from_item(cls, raw: Mapping[str, Any]) -> CodeRecord:
        """A stored item (typed form) as a record."""
        item = dynamo.plain(dynamo.from_item(raw))
        published = item.get("published")
        return cls(
            gtin14=str(item["gtin"]),
            contributions=tuple(_contribution(c) for c in item.get("contributions") or []),
            published=Publication(**published) if isinstance(published, dict) else None,
            version=int(item.get("version", 0)),
        )


def _contribution_item(contribution: Contribution) -> dict[str, Any]:
    values = dataclasses.asdict(contribution)
    values["description"] = {k: v for k, v in values["description"].items() if v is not None}
    return {k: v for k, v in values.items() if v is not None}


def _contribution(values: Mapping[str, Any]) -> Contribution:
    share = values.get("share")
    return Contribution(
        contributor=str(values["contributor"]),
        description=Description(**values["description"]),
        contributed_at=int(values["contributed_at"]),
        updated_at=int(values.get("updated_at", values["contributed_at"])),
        status=values.get("status", "pending"),
        image_url=values.get("image_url"),
        share=ShareState(**share) if isinstance(share, dict) else None,
    )
