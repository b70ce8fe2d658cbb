"""The one upstream HTTP seam: session, attempts, deadline, status -> typed error, body guards.

Every upstream client (Baichuan, GuGuData, the keyless providers) sends its requests
through `exchange`: it makes the attempts within the policy's deadline, maps transport
failures and HTTP statuses to the typed errors of `errors.py` in one place, reads the
body within the attempt's deadline and size cap, and hands a `Reply` to the client's
own reader, which knows only its vendor's spelling. `Reply.json` guards the body (HTML
pages, invalid JSON).

Retries happen only for failures a retry can fix (connection errors, 5xx,
rate-limit answers where the request says so), with exponential backoff and full
jitter, inside a total deadline that keeps a request well within API Gateway's 29 s.
Bodies are read by `read_body` against a deadline too: requests' read timeout bounds
each recv(), not the whole body, so an upstream that drips bytes would never end.
Redirects are never followed blindly: only a GET whose request names the base URLs it
may be sent to (`Request.redirects`) follows one, and only to those.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import DecodeError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error

from . import PROJECT_NAME, __version__, redaction
from .errors import (
    ServiceError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .snapshot import renew_after_restore

MAX_BODY_BYTES = 1_000_000
"""Cap on an upstream body: real answers are a few hundred bytes of JSON."""

_CHUNK_BYTES = 8192

RATE_LIMITED_PAUSE = 60
"""Seconds to leave an upstream alone after a 429 that names no Retry-After."""

MAX_REDIRECTS = 2
"""Redirects one attempt follows (to the bases its request allows): a sister instance."""

DEFAULT_CONTACT = "+https://github.com/barcode-backend"
USER_AGENT = f"{PROJECT_NAME}/{__version__} ({DEFAULT_CONTACT})"
"""The paid upstreams' User-Agent (GuGuData, Baichuan: keyed accounts, no contact asked)."""

# Every urllib3 logger that can print a request URL (with its query string).
_URLLIB3_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)


redaction.install(*_URLLIB3_LOGGERS)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a client tries: attempts, backoff and the overall time budget."""

    attempts: int = 3
    backoff: float = 0.25
    max_backoff: float = 2.0
    deadline: float = 15.0
    connect_timeout: float = 3.05
    read_timeout: float = 8.0


class Retryable(Exception):
    """Raised inside an attempt: `error` is what the caller gets if no retry is left."""

    def __init__(self, error: ServiceError, retry_after: float | None = None) -> None:
        super().__init__(error.detail)
        self.error = error
        self.retry_after = retry_after


class BodyTooLarge(Exception):
    """The upstream body is over the size limit given to `read_body`."""


def user_agent(contact: str = "") -> str:
    """`barcode-backend/<version> (<contact>)`: the free providers ask every client for one.

    `contact` is the operator's URL or e-mail (PROVIDER_CONTACT). Without one the agent
    names only the app and its version: a contact that is not the operator's (the
    project's page, say) would send the provider's complaints to someone who cannot act.
    """
    contact = " ".join(contact.split()).replace("(", "").replace(")", "")
    agent = f"{PROJECT_NAME}/{__version__}"
    return f"{agent} ({contact})" if contact else agent


def new_session(agent: str = USER_AGENT) -> requests.Session:
    """A keep-alive session with the project's User-Agent (retries are ours, not urllib3's)."""
    session = requests.Session()
    session.headers["User-Agent"] = agent
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # Built before a snapshot with SnapStart: its pool is emptied after each restore.
    return renew_after_restore(session)


def with_retries[T](
    attempt: Callable[[tuple[float, float]], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run `attempt(timeout)` until it returns, raises a final error, or the budget is spent."""
    started = clock()
    for number in range(1, policy.attempts + 1):
        remaining = policy.deadline - (clock() - started)
        timeout = (
            min(policy.connect_timeout, max(remaining, 0.1)),
            min(policy.read_timeout, max(remaining, 0.1)),
        )
        try:
            return attempt(timeout)
        except Retryable as failure:
            if number == policy.attempts:
                raise _give_up(failure) from None
            cap = min(policy.max_backoff, policy.backoff * 2 ** (number - 1))
            delay = random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography
            if failure.retry_after is not None:
                delay = max(delay, min(failure.retry_after, policy.max_backoff))
            if clock() - started + delay + policy.connect_timeout > policy.deadline:
                raise _give_up(failure) from None
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _give_up(failure: Retryable) -> ServiceError:
    """The final error, telling our caller to wait at least as long as the upstream asked."""
    error = failure.error
    if failure.retry_after is not None and failure.retry_after > 0:
        asked = math.ceil(min(failure.retry_after, 86_400))
        return error.copy(retry_after=max(error.retry_after or 0, asked))
    return error


def attempt_deadline(
    timeout: tuple[float, float], clock: Callable[[], float] = time.monotonic
) -> float:
    """When an attempt given `timeout` by `with_retries` must have its whole answer.

    The read part of `timeout` is already capped by what is left of the policy's
    deadline, so this bounds the attempt by both its read timeout and that deadline.
    """
    return clock() + timeout[1]


def read_body(
    response: requests.Response,
    deadline: float,
    limit: int = MAX_BODY_BYTES,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """The body of a `stream=True` response, read by chunks until `deadline` (a `clock()` time).

    Raises requests.ReadTimeout once the deadline passes (each chunk is one recv(),
    itself bounded by the request's read timeout), BodyTooLarge past `limit` bytes,
    and requests' ConnectionError/ContentDecodingError for a broken or undecodable
    body. The bytes are also left in `response.content`. Does not close `response`.
    """
    raw = response.raw
    # read1: what one recv() brings; read(n) would wait for all n bytes of a dripping body.
    read: Callable[[int], bytes] = getattr(raw, "read1", None) or raw.read
    chunks: list[bytes] = []
    size = 0
    while True:
        if clock() >= deadline:
            raise requests.ReadTimeout("upstream body not complete before the deadline")
        chunk = _read_chunk(read)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"upstream body is over {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    response._content = body  # so that .content and .text work on a streamed response
    return body


def _read_chunk(read: Callable[[int], bytes]) -> bytes:
    """One chunk, with urllib3's errors turned into their requests counterparts."""
    try:
        return read(_CHUNK_BYTES)
    except ReadTimeoutError as error:
        raise requests.ReadTimeout(error) from None
    except DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error) from None
    except (Urllib3Error, OSError) as error:
        raise requests.ConnectionError(error) from None


def retry_after_seconds(response: requests.Response) -> float | None:
    """The Retry-After header in seconds, when it is a number."""
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:100].lower()
    return head.startswith("<!doctype") or head.startswith("<html") or "<body" in head


def with_key_rotation[K, T](keys: Callable[[bool], K], call: Callable[[K], T]) -> T:
    """`call(key)`; after an auth failure, refetch the key once and retry if it changed.

    A rotated secret is picked up at once instead of after the cache's max age; an
    unchanged key is not tried twice.
    """
    key = keys(False)
    try:
        return call(key)
    except UpstreamAuthFailed:
        fresh = keys(True)
        if fresh == key:
            raise
        return call(fresh)


# --- the seam ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An upstream's answer as a client reads it: status, body bytes and headers."""

    label: str
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    charset: str | None = None  # the Content-Type's charset, for bodies that are not UTF-8
    url: str = ""  # where the answer came from (after a redirect: the instance that answered)

    @property
    def text(self) -> str:
        """The body as text: UTF-8 (a BOM dropped), else the declared charset, never failing."""
        try:
            return self.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return self.body.decode("utf-8", errors="replace")

    def json(self, *, parse_float: Callable[[str], Any] | None = None) -> Any:
        """The body as JSON; an HTML page or invalid JSON is an UpstreamError, never an answer."""
        text = self.text
        if looks_like_html(text):
            raise UpstreamError(f"{self.label} sent an HTML page")
        try:
            return json.loads(text, parse_float=parse_float)
        except ValueError:
            raise UpstreamError(f"{self.label} sent invalid JSON (HTTP {self.status})") from None


@dataclass(frozen=True)
class Request:
    """One upstream request and how the seam treats its failures.

    `accept`: the statuses whose body the client reads (others are errors);
    `refusals`: a vendor's own meaning of a status (checked before the common mapping);
    `retry_timeouts`: False where a read timeout must not be retried (a billed query
    may have been charged; a slow free provider would only be asked twice);
    `pause_on_429`: a 429 ends the call at once as the provider's pause (the router
    blocks the provider for it) instead of being retried within the deadline;
    `redirects`: base URLs a GET may be redirected to (followed within the attempt, at
    most MAX_REDIRECTS); a redirect anywhere else is an UpstreamError, and with none
    given a redirect is an unexpected status like any other.
    """

    label: str
    url: str
    method: Literal["GET", "POST"] = "GET"
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None  # beside the session's (e.g. an account key)
    data: Mapping[str, str] | None = None
    files: Mapping[str, tuple[None, str]] | None = None
    json: Any = None
    accept: frozenset[int] = frozenset({200})
    refusals: Mapping[int, Callable[[Reply], ServiceError]] = field(default_factory=dict)
    retry_timeouts: bool = True
    pause_on_429: bool = False
    limit: int = MAX_BODY_BYTES
    redirects: tuple[str, ...] = ()


def remaining(deadline: float, cap: float) -> float:
    """Seconds left until `deadline` (monotonic), at most `cap`, never below 0.1."""
    return max(0.1, min(cap, deadline - time.monotonic()))


def exchange[T](
    session: requests.Session,
    request: Request,
    policy: RetryPolicy,
    read: Callable[[Reply], T],
    *,
    deadline: float | None = None,
) -> T:
    """Send `request` within `policy` and return `read(reply)`.

    `read` runs inside each attempt, so a vendor's "try again" answer can raise
    `Retryable`. `deadline` (time.monotonic()) shortens the policy's own.
    """
    if deadline is not None:
        policy = dataclasses.replace(policy, deadline=remaining(deadline, policy.deadline))
    return with_retries(lambda timeout: read(_attempt(session, request, timeout)), policy)


def _attempt(session: requests.Session, request: Request, timeout: tuple[float, float]) -> Reply:
    label = request.label
    body_deadline = attempt_deadline(timeout)
    url, params = request.url, request.params
    try:
        for _ in range(MAX_REDIRECTS + 1):
            with session.request(
                request.method,
                url,
                params=params,
                headers=request.headers,
                data=request.data,
                files=request.files,
                json=request.json,
                timeout=timeout,
                allow_redirects=False,  # followed below, only where the request allows
                stream=True,  # the body is read by read_body, within the attempt's deadline
            ) as response:
                target = _redirect(request, response)
                if target is None:
                    body = read_body(response, body_deadline, request.limit)
                    break
            url, params = target, None  # the Location carries the query
        else:
            raise UpstreamError(f"{label} redirected us more than {MAX_REDIRECTS} times")
    except requests.ConnectTimeout:
        raise Retryable(UpstreamUnavailable(f"{label} unreachable")) from None
    except requests.Timeout:
        timed_out = UpstreamTimeout(f"{label} timed out")
        if request.retry_timeouts:
            raise Retryable(timed_out) from None
        raise timed_out from None
    except BodyTooLarge:
        raise UpstreamError(f"{label} sent a body too large (over {request.limit} bytes)") from None
    except requests.RequestException:
        raise Retryable(UpstreamUnavailable(f"{label} unreachable")) from None
    reply = Reply(
        label, response.status_code, body, response.headers, response.encoding, response.url or url
    )
    _check_status(request, reply, retry_after_seconds(response))
    return reply


def _redirect(request: Request, response: requests.Response) -> str | None:
    """Where a redirect the request allows leads; None for any other answer.

    A redirect to a URL outside `request.redirects` is an UpstreamError: following it
    would send our request (and our User-Agent) to a host nobody configured.
    """
    location = response.headers.get("Location")
    if not request.redirects or response.status_code not in _REDIRECTS or not location:
        return None
    target = urljoin(response.url or request.url, location)
    if request.method != "GET" or not any(under_base(target, base) for base in request.redirects):
        raise UpstreamError(f"{request.label} redirected us to a host it may not send us to")
    return target


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def under_base(url: str, base: str) -> bool:
    """Whether `url` is on `base`'s scheme, host and port, under its path."""
    one, other = urlsplit(url), urlsplit(base)
    path = other.path.rstrip("/")
    return (one.scheme.lower(), one.netloc.lower()) == (
        other.scheme.lower(),
        other.netloc.lower(),
    ) and (one.path == path or one.path.startswith(path + "/"))


def _check_status(request: Request, reply: Reply, asked: float | None) -> None:
    """Raise the typed error of a status the client does not read."""
    status, label = reply.status, reply.label
    refusal = request.refusals.get(status)
    if refusal is not None:
        raise refusal(reply)
    if status == 429:
        if request.pause_on_429:
            pause = max(1, round(asked)) if asked is not None else RATE_LIMITED_PAUSE
            raise UpstreamRateLimited(f"{label} asks us to slow down", retry_after=pause)
        raise Retryable(UpstreamRateLimited(f"{label} asks us to slow down"), asked)
    if status >= 500:
        raise Retryable(UpstreamUnavailable(f"{label} failed (HTTP {status})"), asked)
    if status not in request.accept:
        raise UpstreamError(f"{label} answered HTTP {status}")
