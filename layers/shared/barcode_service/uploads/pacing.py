"""Spacing of provider lookups in the worker, so a big list keeps to the provider's rate.

The pacer is asked for a slot right before each provider call (through `PacedSpender`,
the router's budget seam: it is asked exactly when a call is about to leave, after the
catalog, the cache and the provider blocks were read), so cache and catalog answers are
never paced. Slots are handed out under a lock, so the lookups a chunk runs ahead of its
current row (`lookahead.Lookahead`, WORKER_LOOKUP_CONCURRENCY) share one schedule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..router import Spender


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


class PacedSpender:
    """The caller's budget (if any) plus the worker's pacing, as one router.Spender."""

    def __init__(self, pacer: Pacer, budget: Spender | None) -> None:
        self.pacer = pacer
        self.budget = budget

    def spend(self) -> Any:
        reservation = self.budget.spend() if self.budget is not None else None
        self.pacer.take()  # after the budget: a call the budget refuses takes no slot
        return reservation

    def refund(self, reservation: Any) -> None:
        if self.budget is not None:
            self.budget.refund(reservation)
