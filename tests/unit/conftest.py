"""Fixtures of the lookup unit tests: a mocked provider and a service on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses

from barcode_service.lookup import LookupService, build_lookup_service
from barcode_service.settings import load_settings
from tests.support.clocks import Clock


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def service(table: str, secret: dict, clock: Clock) -> LookupService:
    """The real lookup service (moto table and secret) on the fake clock, never sleeping."""
    real = build_lookup_service(load_settings())
    return LookupService(real.settings, real.store, real.router, clock=clock, sleep=lambda s: None)
