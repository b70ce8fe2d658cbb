"""Spacing of provider lookups in the worker, so a big list keeps to the provider's rate."""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """Spaces upstream lookups at most `per_second` apart; cache answers are not paced."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._started = 0.0

    def wait(self) -> None:
        """Before a lookup that may reach the upstream."""
        delay = self._next - self._clock()
        if delay > 0:
            self._sleep(delay)
        self._started = self._clock()

    def spent(self) -> None:
        """The lookup since `wait` reached the upstream.

        Spacing counts from the call's start, not its end, so the achieved rate is the
        configured one rather than 1 / (latency + interval). A call that started late by
        up to one interval (the container was starved of CPU, a slow cache read) keeps
        the schedule: the next one may follow sooner, so a busy host does not lose rate.
        Later than that counts as a pause (cached rows, a new invocation): the schedule
        starts again from this call, so no burst follows.
        """
        late = self._started - self._next
        on_schedule = late <= self.interval
        self._next = (self._next if on_schedule else self._started) + self.interval
