"""Lookup services for tests: the real wiring (moto table, secret), on a test clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from barcode_service.batch import lookup_many
from barcode_service.lookup import LookupService
from barcode_service.provider_health import DynamoHealthStore, ProviderBlock
from tests.conftest import TABLE


def on_clock(
    real: LookupService,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = lambda seconds: None,
) -> LookupService:
    """`real` (from wiring.build_lookup_service) on `clock`, never sleeping, and without
    the callers' budgets unless a test asks for them through `real.budget_for`."""
    return LookupService(
        real.policy, real.store, real.router, real.health, clock=clock, sleep=sleep
    )


def batch_rows(service: LookupService, codes: Any, **options: Any) -> list[dict[str, Any]]:
    """`POST /v1/products/lookup`'s rows for `codes`, as the answer shows them."""
    return [row.to_dict() for row in lookup_many(service, codes, **options)]


def quota_block(health: Any, until: int, *, now: float, provider: str = "baichuan") -> None:
    """Record that `provider`'s daily quota is used up until `until` (epoch s).

    `health` is a provider_health.HealthStore, or a DynamoDB client for the test table.
    """
    if not isinstance(health, DynamoHealthStore) and not hasattr(health, "open"):
        health = DynamoHealthStore(TABLE, health)
    health.open(ProviderBlock(provider, "upstream_quota_exhausted", until), now)
