"""Domain and upstream errors, each with its HTTP status and stable problem `code`.

Raised anywhere in the layer; turned into RFC 9457 problem+json in one place
(`api.problem_response`). Messages never contain credentials.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class InvalidParam:
    """One input field a problem is about (RFC 9457 `invalid_params` member)."""

    name: str
    reason: str


PROBLEM_TYPE_BASE = "https://barcode-backend.dev/problems/"
"""The `type` of every problem is this base + its `code` (the gateway's own answers too)."""


def problem_type(code: str) -> str:
    return PROBLEM_TYPE_BASE + code


class ServiceError(Exception):
    """Base of every error the API answers with a problem document."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
        field: str | None = None,
        invalid_params: Iterable[InvalidParam] = (),
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.extra = extra or {}
        self.invalid_params = tuple(invalid_params)
        # Response headers beside Retry-After (e.g. the caller's RateLimit fields).
        self.headers: dict[str, str] = {}
        if field is not None and not self.invalid_params:
            self.invalid_params = (InvalidParam(field, detail),)

    def copy(
        self,
        *,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        invalid_params: Iterable[InvalidParam] | None = None,
    ) -> Self:
        """A copy of this error with what is given changed or added: an error that was
        raised is never changed in flight (another caller may hold the same one)."""
        clone = type(self).__new__(type(self), *self.args)
        clone.__dict__.update(self.__dict__)
        clone.extra = {**self.extra, **(extra or {})}
        clone.headers = {**self.headers, **(headers or {})}
        if retry_after is not None:
            clone.retry_after = retry_after
        if invalid_params is not None:
            clone.invalid_params = tuple(invalid_params)
        return clone

    def about(self, name: str) -> Self:
        """This error naming the input field `name` (a copy), unless it already names fields."""
        if self.invalid_params:
            return self
        return self.copy(invalid_params=(InvalidParam(name, self.detail),))

    def to_problem(self, language: str | None = None) -> dict[str, Any]:
        """The problem+json body for this error, `title`/`detail` in `language`
        (`en` or `zh-Hans`, see i18n.py; by default the current request's language);
        `code` and field names are never translated."""
        from .i18n import REQUEST_LANGUAGE, translate  # noqa: PLC0415 - a leaf module

        language = language or REQUEST_LANGUAGE.get()

        body: dict[str, Any] = {
            "type": problem_type(self.code),
            "title": translate(self.title, language),
            "status": self.status,
            "detail": translate(self.detail, language),
            "code": self.code,
        }
        if self.invalid_params:
            body["invalid_params"] = [
                {"name": param.name, "reason": translate(param.reason, language)}
                for param in self.invalid_params
            ]
        # Extension members may add to the problem, never change its core members.
        body.update((key, value) for key, value in self.extra.items() if key not in body)
        return body


# --- request problems (4xx) -------------------------------------------------


class InvalidParameter(ServiceError):
    status = 400
    code = "invalid_parameter"
    title = "Invalid parameter"


class UnknownParameter(InvalidParameter):
    """Parameters or body members a route does not take: refused, never ignored."""

    def __init__(self, names: Iterable[str], where: str = "query string") -> None:
        from .text_input import printable  # noqa: PLC0415 - text_input imports this module

        # A name is echoed: one that is not valid Unicode is shown with U+FFFD in its place.
        unknown = list(dict.fromkeys(printable(str(name)) for name in names))
        shown = ", ".join(repr(name[:40]) for name in unknown[:10])
        super().__init__(
            f"unknown {where} parameter{'s' if len(unknown) > 1 else ''}: {shown}",
            invalid_params=[InvalidParam(name[:100], "unknown parameter") for name in unknown],
        )


def refuse_unknown(
    params: Iterable[str], allowed: Iterable[str], where: str = "query string"
) -> None:
    """Raise UnknownParameter when `params` holds a name outside `allowed`."""
    accepted = set(allowed)
    unknown = [name for name in params if name not in accepted]
    if unknown:
        raise UnknownParameter(unknown, where)


def refuse_nulls(members: Mapping[str, Any], what: str = "parameters") -> None:
    """A 400 naming every member that is JSON null: null is not a value of any field
    (a client leaves the member out for its default)."""
    nulls = [name for name, value in members.items() if value is None]
    if nulls:
        raise InvalidParameter(
            f"{what} must not be null: {', '.join(nulls)}",
            invalid_params=[InvalidParam(name, "must not be null") for name in nulls],
        )


class InvalidGs1(InvalidParameter):
    """A GS1 element string or Digital Link URI that breaks the GS1 rules (AI, check
    digit, date, length); `reason` says which, without the rest of the input."""


class Unscannable(ServiceError):
    """A render that does not decode back to its content: never returned to a client."""

    status = 422
    code = "unscannable"
    title = "The image would not scan"


class InvalidGtin(InvalidParameter):
    """A code that should hold a GTIN and does not (length, characters, check digit):
    the same code on every route, lookups and generate alike."""

    status = 400
    code = "invalid_gtin"
    title = "Invalid GTIN"


class UnsupportedType(ServiceError):
    status = 400
    code = "unsupported_type"
    title = "Unsupported barcode type"


class UnsupportedFileType(UnsupportedType):
    """An upload or scan of a file type we do not read (same stable code)."""

    title = "Unsupported file type"


class UnsupportedMediaType(ServiceError):
    """A request body in a media type the route does not read."""

    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class MethodNotAllowed(ServiceError):
    """A known path asked with a method it does not have (the answer carries `Allow`)."""

    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"

    def __init__(self, method: str, allow: Iterable[str]) -> None:
        self.allow = tuple(allow)
        super().__init__(f"{method[:20]} is not allowed here; allowed: {', '.join(self.allow)}")


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    title = "Not found"


class NotServed(NotFound):
    """No lookup provider in this route's list can know such a code (e.g. a non-book with
    only a book source): nobody was asked and nothing is remembered, so it is not a "not
    found". The same meaning on every route: a 404 `not_served`, a `not_served` row."""

    code = "not_served"
    title = "No provider serves this code"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class EmptyUpload(ServiceError):
    """The uploaded file holds nothing to look up."""

    status = 422
    code = "empty_upload"
    title = "Empty upload"


class UnreadableUpload(ServiceError):
    """The uploaded file cannot be read as what it claims to be (corrupt, wrong encoding)."""

    status = 422
    code = "unreadable_upload"
    title = "Unreadable upload"


class DeadlineExceeded(ServiceError):
    """Work not started because the request's deadline passed (deadline.py): the rest of
    a batch, or a photo's further codes. Send it again; it is not the input's fault."""

    status = 503
    code = "deadline_exceeded"
    title = "Not done in time"

    def __init__(self, detail: str, *, retry_after: int | None = 1, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kw)


class ProcessingStalled(ServiceError):
    """An upload row or job no worker finished: its run made no progress for too long
    (uploads/sweeper.py). Not the file's fault: upload those rows again."""

    status = 503
    code = "processing_stalled"
    title = "Processing stalled"

    def __init__(self, detail: str, *, retry_after: int | None = 60, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kw)


class ImageTooLarge(UnreadableUpload):
    """A photo with more pixels than are decoded (image_budget.MAX_PIXELS): refused from
    its header, before any pixel is decoded, to keep within the function's memory."""

    code = "image_too_large"
    title = "Image too large"


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int | None = 1, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kw)


class ClientBudgetExceeded(RateLimited):
    """This API key's (or user's) daily budget of provider lookups is spent (budgets.py)."""

    code = "client_budget_exceeded"
    title = "Daily lookup budget used up"


# --- community catalog (community/) ---------------------------------------------


class AlreadyKnown(ServiceError):
    """A contribution for a code that a provider (or the catalog) answers today: the
    problem names which (`provider`, `source`)."""

    status = 409
    code = "already_known"
    title = "Product already known"


class ContributionRefused(ServiceError):
    """A contribution this service does not take: the community catalog is not in use,
    the caller is not known, or the code has as many contributions as it keeps."""

    status = 403
    code = "contribution_refused"
    title = "Contribution refused"


class ContributionLimitExceeded(RateLimited):
    """This API key's (or user's) contributions of the day are used up
    (COMMUNITY_DAILY_LIMIT); Retry-After counts to 00:00 UTC."""

    code = "contribution_limit_exceeded"
    title = "Daily contribution limit reached"


# --- our own storage ---------------------------------------------------------


class StorageError(ServiceError):
    """The images bucket is missing or refused a request: an operator must look.

    A 503 with Retry-After rather than a 500: the request was fine, the service is not.
    """

    status = 503
    code = "storage_error"
    title = "Image storage failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, retry_after=30)


# --- upstream problems --------------------------------------------------------


class UpstreamError(ServiceError):
    """The upstream answered something we cannot use (garbage, unknown message)."""

    status = 502
    code = "upstream_error"
    title = "Upstream error"


class UpstreamUnavailable(UpstreamError):
    """Timeouts, connection failures, 5xx: worth retrying later."""

    status = 503
    code = "upstream_unavailable"
    title = "Upstream unavailable"

    def __init__(self, detail: str, *, retry_after: int | None = 30, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kw)


class UpstreamTimeout(UpstreamUnavailable):
    code = "upstream_timeout"
    title = "Upstream timed out"


class UpstreamRateLimited(UpstreamError):
    status = 429
    code = "rate_limited"
    title = "Upstream rate limit reached"

    def __init__(self, detail: str, *, retry_after: int | None = 1, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **kw)


class UpstreamRejected(UpstreamError):
    """The upstream called our parameters wrong (a missing parameter, a refused value)."""

    code = "upstream_rejected"
    title = "Upstream rejected the request"


class UpstreamAccountError(UpstreamError):
    """Problems with our account at the upstream: an operator must act. Not retried."""

    status = 503
    retry_after_default: ClassVar[int] = 3600

    def __init__(self, detail: str, *, retry_after: int | None = None, **kw: Any) -> None:
        super().__init__(detail, retry_after=retry_after or self.retry_after_default, **kw)

    @property
    def block_seconds(self) -> int:
        """How long this problem stops further calls to the provider (ACCOUNT_BLOCKS)."""
        return account_block(self.code)[1]


class UpstreamAuthFailed(UpstreamAccountError):
    code = "upstream_auth_failed"
    title = "Upstream credentials rejected"


class CredentialsMissing(UpstreamAuthFailed):
    """The credentials secret is unusable: not JSON, or a section or key is absent."""

    title = "Upstream credentials not configured"


class CredentialsNotConfigured(CredentialsMissing):
    """Deliberately no credentials: no SECRET_ID, or the key is an empty string.

    The stack's placeholder secret and a local run without keys look like this; the
    service then works without that upstream instead of reporting a fault.
    """


class ProviderNotConfigured(CredentialsNotConfigured):
    """A provider in LOOKUP_PROVIDERS has no credentials: it cannot answer until it has."""

    code = "upstream_not_configured"
    title = "Lookup provider not configured"


class UpstreamKeyDisabled(UpstreamAccountError):
    code = "upstream_key_disabled"
    title = "Upstream API key disabled"


class UpstreamNoPlan(UpstreamAccountError):
    code = "upstream_no_plan"
    title = "No active upstream plan"


class UpstreamPlanExhausted(UpstreamAccountError):
    code = "upstream_plan_exhausted"
    title = "Upstream plan used up"


class UpstreamInArrears(UpstreamAccountError):
    code = "upstream_in_arrears"
    title = "Upstream account in arrears"


# How long an account-level failure stops further provider calls, and the error a
# recorded block answers with: long enough to avoid a retry storm, short enough that
# a fixed secret or a new plan is noticed. Codes not listed block like a rejected key.
ACCOUNT_BLOCKS: dict[str, tuple[type[UpstreamAccountError], int]] = {
    UpstreamAuthFailed.code: (UpstreamAuthFailed, 60),
    UpstreamKeyDisabled.code: (UpstreamKeyDisabled, 900),
    UpstreamNoPlan.code: (UpstreamNoPlan, 900),
    UpstreamPlanExhausted.code: (UpstreamPlanExhausted, 900),
}


def account_block(code: str) -> tuple[type[UpstreamAccountError], int]:
    """(error class, block seconds) of an account problem's `code`."""
    return ACCOUNT_BLOCKS.get(code, ACCOUNT_BLOCKS[UpstreamAuthFailed.code])


class UpstreamQuotaExhausted(UpstreamError):
    """Today's upstream quota is used up; it resets at `reset_at`."""

    status = 503
    code = "upstream_quota_exhausted"
    title = "Upstream daily quota used up"

    def __init__(
        self, detail: str, *, reset_at: datetime, now: datetime | None = None, stated: bool = False
    ) -> None:
        now = now or datetime.now(reset_at.tzinfo)
        # Round up: a client that comes back before the reset only meets the same answer.
        seconds = max(1, math.ceil((reset_at - now).total_seconds()))
        super().__init__(detail, retry_after=seconds, extra={"reset_at": reset_at.isoformat()})
        self.reset_at = reset_at
        # True: the provider stated this reset (a header); False: it is our reading of
        # the provider's documented schedule, which the router dates on its own clock.
        self.stated = stated
