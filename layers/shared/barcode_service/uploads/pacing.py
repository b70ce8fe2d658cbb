"""Spacing of provider lookups in the workers, so big lists keep to the uploads' share.

The uploads' share of the provider rate is WORKER_LOOKUPS_PER_SECOND x
UPLOADS_MAXIMUM_CONCURRENCY (the template's rules keep it within LookupRateLimit).
`FleetShare` spaces the lookups of all workers together to it, through the fleet
limiter's slots (limiter.FleetLimiter, key `RATE#uploads`): a worker that runs alone
(the first to start, the last to finish) may use the whole share, so a list is not slowed
by the others' start and end. When the table cannot give a slot, each worker falls back to
its own `Pacer` at WORKER_LOOKUPS_PER_SECOND, which also keeps the fleet within the share.

The pacer is asked for a slot right before each provider call (the router's `pace`
gate, after the caller's budget: exactly when a call is about to leave, after the
catalog, the cache and the providers' health were read), so cache and catalog answers
are never paced. The lookups a chunk runs ahead of its current row (`lookahead.Lookahead`,
WORKER_LOOKUP_CONCURRENCY) each ask for their own slot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from ..errors import UpstreamError
from ..providers.base import RateLimit
from ..router import Pace

SHARE_KEY = "uploads"
SHARE_SLACK = 1.01
"""The share's slots are 1% wider than its rate: when the share is the whole provider
rate (the template's default), the provider's own limiter then mostly finds the provider
idle (one write, no wait) instead of queueing each call just behind the last one."""
SHARE_MAX_WAIT = 15.0
"""Longest wait for a slot of the share (below the worker's time margin, 20 s); a longer
queue means more workers than the share was set for: this worker paces itself then."""


class SlotLimiter(Protocol):
    """The fleet limiter (limiter.FleetLimiter) as FleetShare uses it."""

    def acquire(
        self, provider: str, limit: RateLimit, max_wait: float, *, strict: bool = True
    ) -> float: ...


class Pacer:
    """Provider calls at most `per_second`, counted from each call's start."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def take(self) -> None:
        """Wait for the next slot (right before a call that will reach a provider).

        The schedule counts from the calls' starts, not their ends, so the achieved rate
        is the configured one rather than 1 / (latency + interval). A slot taken late by
        up to one interval (the container was starved of CPU, a slow cache read) keeps
        the schedule: the next one may follow sooner, so a busy host does not lose rate.
        Later than that counts as a pause (cached rows, a new invocation): the schedule
        starts again from now, so no burst follows.
        """
        with self._lock:
            now = self._clock()
            due = self._next
            if due is None or now - due > self.interval:
                slot = now  # the first call, or after a pause: the schedule starts again
                self._next = now + self.interval
            elif now < due:
                slot = due
                self._next = due + self.interval
            else:
                slot = now  # late by at most one interval: the schedule holds
                self._next = due + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)


class FleetShare:
    """Provider calls of all upload workers together at most `per_second`."""

    def __init__(self, limiter: SlotLimiter, per_second: float, fallback: Pace) -> None:
        self.limiter = limiter
        self.limit = RateLimit(per_second / SHARE_SLACK, 1.0)
        self.fallback = fallback

    def take(self) -> None:
        try:
            # Not strict: the share is ours; the provider's own limiter stays strict.
            self.limiter.acquire(SHARE_KEY, self.limit, SHARE_MAX_WAIT, strict=False)
        except UpstreamError:  # the table is down, or the queue is over SHARE_MAX_WAIT
            self.fallback.take()
