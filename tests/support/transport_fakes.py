"""Transport test helpers: a clock that moves only when told, attempts that fail on cue."""

from __future__ import annotations

from collections.abc import Callable

from barcode_service.errors import (
    UpstreamUnavailable,
)
from barcode_service.transport import (
    Retryable,
)

SECRET = "gg-appkey-SECRET-1111"


class FakeTime:
    """A clock that only moves when told to (or when slept on)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(
    times: int,
    error: Callable[[], Retryable | Exception],
    *,
    result: str = "ok",
    time: FakeTime | None = None,
    step: float = 0.0,
) -> tuple[Callable[[tuple[float, float]], str], list[tuple[float, float]]]:
    """An attempt that fails `times` times, then returns `result`; records each timeout."""
    timeouts: list[tuple[float, float]] = []

    def attempt(timeout: tuple[float, float]) -> str:
        timeouts.append(timeout)
        if time is not None:
            time.now += step
        if len(timeouts) <= times:
            raise error()
        return result

    return attempt, timeouts


def unavailable() -> Retryable:
    return Retryable(UpstreamUnavailable("down"))
