"""One deadline per request, below the function's timeout: work that cannot finish in
time is answered as not done (`deadline_exceeded`) instead of timing the function out.

A Lambda killed at its timeout answers nothing: API Gateway turns it into a 504 for the
whole request, so a batch of 100 renders that needs 26 s loses all 100. The resolver
(`api.make_resolver`) starts every request's deadline at the function's remaining time
less MARGIN_SECONDS (kept for writing the answer), at most REQUEST_SECONDS; the code that
can take long asks it before each step: a barcode batch before each row (and before an
upstream call, which may take UPSTREAM_DEADLINE), a render before drawing, a photo scan
before each code's lookup. The rows done are answered; the rest get a 503
`deadline_exceeded` problem saying to send them again.

The current request's deadline is a context variable, like its language: the problems
and steps of one request see it, also in the threads a scan looks codes up in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .errors import DeadlineExceeded

REQUEST_SECONDS = 21.0
"""The longest any request works (the API functions' timeout is 25 s)."""
MARGIN_SECONDS = 4.0
"""Kept of the function's remaining time for the answer itself (serialising, sending)."""


@dataclass(frozen=True)
class Deadline:
    """A point on `clock` (monotonic seconds) by which the work must be done."""

    at: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def for_invocation(
        cls,
        context: Any,
        *,
        limit: float = REQUEST_SECONDS,
        margin: float = MARGIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> Deadline:
        """The deadline of a request served by a Lambda invocation with `context`."""
        seconds = limit
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            seconds = min(limit, max(0.0, remaining() / 1000 - margin))
        return cls.after(seconds, clock)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - self.clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def exceeded(self, what: str) -> DeadlineExceeded:
        """The problem for `what` (a row, a code) that was not started in time."""
        return DeadlineExceeded(
            f"{what} was not done: the request ran out of its time; send it again "
            "(alone, or in a smaller batch)"
        )

    def check(self, what: str) -> None:
        """DeadlineExceeded when the deadline has passed."""
        if self.expired:
            raise self.exceeded(what)


NO_DEADLINE = Deadline(float("inf"))
_CURRENT: ContextVar[Deadline] = ContextVar("request_deadline", default=NO_DEADLINE)


def current() -> Deadline:
    """The deadline of the request being served (none outside a request)."""
    return _CURRENT.get()


@contextmanager
def applying(deadline: Deadline) -> Iterator[Deadline]:
    """Make `deadline` the current one for the duration of the block."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)
