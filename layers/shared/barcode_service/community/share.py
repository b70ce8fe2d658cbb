"""Sharing contributions with Open Food Facts (opt-in), and retrying from a queue.

With COMMUNITY_SHARE_OPENFOODFACTS=true and `{"openfoodfacts": {"user_id", "password"}}`
in the secret, a contribution whose request says `"share": true` is sent to Open Food
Facts' product write API: `POST <OPENFOODFACTS_WRITE_URL>/cgi/product_jqm2.pl`, a form
with `code`, `product_name`, `brands`, `quantity`, `categories`, the account
(`user_id`, `password`), the app (`app_name`, `app_version`) and a per-user anonymous
id (`app_uuid`: a hash of the contributor's caller key, never the key itself), through
the one HTTP seam. Its answers (HTTP 200 JSON): `{"status": 1, "status_verbose":
"fields saved"}` accepted; `{"status": 0, "status_verbose": "not modified"}` (the same
fields were there) accepted; any other `status: 0` (`no code or invalid code`, `Edit
against edit rules`, `no user credentials`) refused for good; a bad account is an
HTML page with HTTP 403, which an operator must fix.

The request makes one attempt within a short deadline; a failure that a later attempt
may not meet (timeout, 5xx, 429, a refused account, an unreadable answer) sends a
message to the share queue instead, and the upload worker retries it on every delivery
(the queue's visibility timeout apart) until it is accepted or refused, or the
delivery count reaches COMMUNITY_SHARE_MAX_RECEIVE_COUNT: the message then goes to the
queue's dead-letter queue (redrive it once the cause is fixed). The contribution itself
is stored before any of this and never depends on it; its `share` records each outcome.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .. import deadline as request_deadline
from ..errors import CredentialsNotConfigured, ServiceError, UpstreamAuthFailed, UpstreamError
from ..gtin import parse_gtin
from ..observability import count, logger
from ..transport import Reply, Request, RetryPolicy, exchange, with_key_rotation
from .model import CodeRecord, Contribution, ShareState
from .store import CommunityStore

if TYPE_CHECKING:
    import requests

    from ..credential_models import OpenFoodFactsAccount

WRITE_PATH = "/cgi/product_jqm2.pl"
REQUEST_DEADLINE = 6.0
"""Seconds the contribution request gives its one attempt, at most: less when the
request (deadline.py) has less left, and none under a second."""
DISABLED = "sharing with Open Food Facts is not enabled on this service"
NO_ACCOUNT = "this service has no Open Food Facts account to share with"


def app_uuid(contributor: str) -> str:
    """The per-user anonymous id Open Food Facts groups one user's edits by."""
    return hashlib.sha256(f"openfoodfacts-app-uuid:{contributor}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Verdict:
    """Open Food Facts' answer to one write: accepted or refused, in its own words."""

    accepted: bool
    reason: str


class OpenFoodFactsWriter:
    """Open Food Facts' product write API (v2 form POST) with the operator's account."""

    def __init__(
        self,
        base_url: str,
        account: Callable[[bool], OpenFoodFactsAccount],
        session: requests.Session,
        *,
        policy: RetryPolicy,
        app_name: str,
        app_version: str,
    ) -> None:
        self.url = base_url.rstrip("/") + WRITE_PATH
        self.account = account
        self.session = session
        self.policy = policy
        self.app_name = app_name
        self.app_version = app_version

    def send(
        self, gtin14: str, contribution: Contribution, deadline: float | None = None
    ) -> Verdict:
        """Write one contribution's text; raises ServiceError when there is no verdict.

        With a `deadline` (the request's attempt) it is one try: the queue retries.
        """
        return with_key_rotation(
            self.account, lambda account: self._send(gtin14, contribution, account, deadline)
        )

    def _send(
        self,
        gtin14: str,
        contribution: Contribution,
        account: OpenFoodFactsAccount,
        deadline: float | None,
    ) -> Verdict:
        text = contribution.description
        form = {
            "code": parse_gtin(gtin14).upstream_code,
            "product_name": text.name,
            "brands": text.brand,
            "quantity": text.quantity,
            "categories": text.category,
            "user_id": account.user_id.get_secret_value(),
            "password": account.password.get_secret_value(),
            "app_name": self.app_name,
            "app_version": self.app_version,
            "app_uuid": app_uuid(contribution.contributor),
            "comment": f"community catalog of {self.app_name}",
        }
        request = Request(
            "Open Food Facts (write)",
            self.url,
            method="POST",
            data={name: value for name, value in form.items() if value},
            refusals={401: _account_refused, 403: _account_refused},
            retry_timeouts=False,  # a write that timed out may have been saved: the queue retries
            pause_on_429=True,
        )
        policy = self.policy if deadline is None else dataclasses.replace(self.policy, attempts=1)
        return exchange(self.session, request, policy, _verdict, deadline=deadline)


def _account_refused(reply: Reply) -> ServiceError:
    return UpstreamAuthFailed(
        "Open Food Facts refused the account (user_id and password in the secret)"
    )


def _verdict(reply: Reply) -> Verdict:
    body = reply.json()
    if not isinstance(body, dict) or "status" not in body:
        raise UpstreamError("Open Food Facts (write) sent an unknown answer")
    said = str(body.get("status_verbose") or "").strip()[:200]
    if str(body["status"]).strip() == "1":
        return Verdict(True, said or "fields saved")
    if said == "not modified":
        return Verdict(True, "Open Food Facts already had these fields")
    return Verdict(False, f"Open Food Facts refused it: {said or 'no reason given'}")


@dataclass(frozen=True)
class ShareMessage:
    """A contribution to send again: which code, whose (the text is read from the store)."""

    gtin14: str
    contributor: str
    kind: Literal["share"] = "share"

    def to_body(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def parse(cls, message: dict[str, Any]) -> ShareMessage:
        return cls(gtin14=str(message["gtin14"]), contributor=str(message["contributor"]))


class Sharing:
    """Sends contributions to Open Food Facts: once in the request, then from the queue."""

    def __init__(
        self,
        store: CommunityStore,
        writer: Callable[[], OpenFoodFactsWriter] | None,
        *,
        sqs: Any,
        queue_url: str,
        max_receive_count: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.writer = writer  # None: COMMUNITY_SHARE_OPENFOODFACTS is off
        self.sqs = sqs
        self.queue_url = queue_url
        self.max_receive_count = max_receive_count
        self.clock = clock

    def first_attempt(self, record: CodeRecord, contributor: str) -> ShareState:
        """Send `contributor`'s contribution now (one attempt); queue it when that fails."""
        contribution = record.of(contributor)
        assert contribution is not None
        if self.writer is None:
            return self._record(record.gtin14, contributor, "disabled", DISABLED)
        seconds = min(REQUEST_DEADLINE, request_deadline.current().remaining() - 1)
        if seconds < 1:  # the request has no time left for it: the queue sends it
            late = ServiceError("the request had no time left to send it")
            return self._queue(record.gtin14, contributor, late)
        try:
            verdict = self.writer().send(record.gtin14, contribution, time.monotonic() + seconds)
        except CredentialsNotConfigured:
            return self._record(record.gtin14, contributor, "disabled", NO_ACCOUNT)
        except ServiceError as error:
            return self._queue(record.gtin14, contributor, error)
        return self._verdict(record.gtin14, contributor, verdict, attempts=1)

    def retry(self, message: ShareMessage, receive_count: int) -> ShareState | None:
        """One queued attempt (upload worker); raises while it should be tried again.

        None when there is nothing to send (the contribution is gone, or Open Food Facts
        already accepted or refused it).
        """
        record = self.store.get(message.gtin14, consistent=True)
        own = record.of(message.contributor) if record is not None else None
        if own is None or own.share is None or own.share.status in _SETTLED:
            return None
        attempts = own.share.attempts + 1
        if self.writer is None:
            return self._record(message.gtin14, message.contributor, "disabled", DISABLED)
        try:
            verdict = self.writer().send(message.gtin14, own)
        except CredentialsNotConfigured:
            return self._record(message.gtin14, message.contributor, "disabled", NO_ACCOUNT)
        except ServiceError as error:
            final = receive_count >= self.max_receive_count
            status: Literal["queued", "failed"] = "failed" if final else "queued"
            reason = _failure(error) + ("; in the dead-letter queue" if final else "")
            self._record(message.gtin14, message.contributor, status, reason, attempts)
            count("CommunityShareRetryFailed")
            raise
        return self._verdict(message.gtin14, message.contributor, verdict, attempts)

    def _queue(self, gtin14: str, contributor: str, error: ServiceError) -> ShareState:
        reason = _failure(error)
        try:
            if not self.queue_url:
                raise ServiceError("no share queue is configured (COMMUNITY_SHARE_QUEUE_URL)")
            self.sqs.send_message(
                QueueUrl=self.queue_url, MessageBody=ShareMessage(gtin14, contributor).to_body()
            )
        except Exception as unsent:  # any failure to queue is recorded, never raised
            logger.warning("share not queued", extra={"error": type(unsent).__name__})
            return self._record(gtin14, contributor, "failed", f"{reason}; not queued", 1)
        count("CommunityShareQueued")
        return self._record(gtin14, contributor, "queued", f"{reason}; it will be retried", 1)

    def _verdict(
        self, gtin14: str, contributor: str, verdict: Verdict, attempts: int
    ) -> ShareState:
        count("CommunityShared" if verdict.accepted else "CommunityShareRefused")
        status: Literal["accepted", "refused"] = "accepted" if verdict.accepted else "refused"
        return self._record(gtin14, contributor, status, verdict.reason, attempts)

    def _record(
        self, gtin14: str, contributor: str, status: Any, reason: str, attempts: int = 0
    ) -> ShareState:
        """Keep what became of the share with the contribution; returns it."""
        state = ShareState(status, reason, attempts, int(self.clock()))
        self.store.change(gtin14, lambda record: record.shared(contributor, state))
        return state


_SETTLED = ("accepted", "refused", "disabled")


def _failure(error: ServiceError) -> str:
    """Why an attempt got no verdict, in words for the app (never a secret)."""
    if isinstance(error, UpstreamAuthFailed):
        return "Open Food Facts refused this service's account (an operator must fix it)"
    if not isinstance(error, UpstreamError):
        return error.detail
    return f"Open Food Facts could not be reached ({error.code})"
