"""Router pieces for tests: a limiter that never waits, routers over given providers."""

from __future__ import annotations

import time
from collections.abc import Sequence

from barcode_service.providers.baichuan import BaichuanClient, BaichuanProvider
from barcode_service.providers.base import Provider, RateLimit
from barcode_service.router import Router


def soon(seconds: float = 5) -> float:
    """A provider call's deadline (time.monotonic()) `seconds` from now."""
    return time.monotonic() + seconds


class FreeLimiter:
    """A `router.Limiter` that lets every call through at once and counts them."""

    def __init__(self) -> None:
        self.acquired: list[str] = []

    def acquire(self, provider: str, limit: RateLimit, max_wait: float) -> float:
        self.acquired.append(provider)
        return 0.0


class OpenGate:
    """A `router.Gate` that lets every provider be asked (no health recorded)."""

    def check(self, provider: str) -> None:
        return None


def router_over(providers: Sequence[Provider], limiter: FreeLimiter | None = None) -> Router:
    """A router over `providers` in order, without a table behind its limiter."""
    free = limiter or FreeLimiter()
    return Router(
        [p.name for p in providers], lambda: list(providers), lambda: free, max_wait=0, deadline=15
    )


def baichuan_router(client: BaichuanClient, limiter: FreeLimiter | None = None) -> Router:
    """A router whose only provider is Baichuan through `client`."""
    return router_over([BaichuanProvider(lambda: client, RateLimit(1_000_000, 1))], limiter)
