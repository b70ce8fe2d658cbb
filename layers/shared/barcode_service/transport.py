"""HTTP plumbing shared by the upstream clients: session, timeouts, bounded retries.

Retries happen only for failures a retry can fix (connection errors, 5xx,
rate-limit answers), with exponential backoff and full jitter, inside a total
deadline that keeps a request well within API Gateway's 29 s.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from . import PROJECT_NAME, __version__
from .errors import ServiceError

USER_AGENT = f"{PROJECT_NAME}/{__version__} (+https://github.com/barcode-backend)"

_SECRET_QUERY = re.compile(r"((?:appkey|api_key|secret_key)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """Blank out credential values that may sit in a URL or form body."""
    return _SECRET_QUERY.sub(r"\1***", text)


class _RedactFilter(logging.Filter):
    """urllib3 logs request lines (with query strings) at DEBUG: keep keys out of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactFilter())


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


def new_session() -> requests.Session:
    """A keep-alive session with the project's User-Agent (retries are ours, not urllib3's)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


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
                raise failure.error from None
            cap = min(policy.max_backoff, policy.backoff * 2 ** (number - 1))
            delay = random.uniform(0, cap)  # noqa: S311 - jitter, not cryptography
            if failure.retry_after is not None:
                delay = max(delay, min(failure.retry_after, policy.max_backoff))
            if clock() - started + delay + policy.connect_timeout > policy.deadline:
                raise failure.error from None
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def retry_after_seconds(response: requests.Response) -> float | None:
    """The Retry-After header in seconds, when it is a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:100].lower()
    return head.startswith("<!doctype") or head.startswith("<html") or "<body" in head
