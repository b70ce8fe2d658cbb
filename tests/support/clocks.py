"""Fake clocks: time that only moves when a test moves it."""

from __future__ import annotations


class Clock:
    """An epoch clock standing at `now` until a test changes it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
