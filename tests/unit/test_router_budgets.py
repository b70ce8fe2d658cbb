"""The router pays each provider call from the caller's budget; only answers are kept.

Three providers in order (Open Food Facts, Open Library, Baichuan), moto for the table
and the fleet limiter, `responses` for the providers; a `Budgets` on the same table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
import responses

from barcode_service.budgets import STATE_MAX_AGE, Budgets, BudgetState
from barcode_service.errors import ClientBudgetExceeded
from barcode_service.lookup import LookupService
from barcode_service.settings import load_settings
from barcode_service.wiring import build_lookup_service
from tests.conftest import TABLE
from tests.support.clocks import Clock
from tests.support.lookups import batch_rows
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_found,
    off_not_found,
    off_product_url,
)
from tests.support.workers import gtin13

CLIENT = "c" * 32
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def budgets(table: str, clock: Clock) -> Budgets:
    return Budgets(TABLE, boto3.client("dynamodb"), default_limit=5, clock=clock)


@pytest.fixture
def service(table: str, secret: dict, clock: Clock, budgets: Budgets) -> LookupService:
    environment = {
        **os.environ,
        "LOOKUP_PROVIDERS": "openfoodfacts,baichuan",
        "OPENFOODFACTS_REQUESTS_PER_MINUTE": "600000",
        "BAICHUAN_REQUESTS_PER_SECOND": "10000",
        "PROVIDER_OUTAGE_SECONDS": "0",
    }
    settings = load_settings(environment)
    real = build_lookup_service(settings)
    return LookupService(
        real.policy,
        real.store,
        real.router,
        real.health,
        clock=clock,
        sleep=lambda s: None,
        budgets=budgets,
    )


def test_each_answering_provider_costs_one(
    service: LookupService, budgets: Budgets, mock: responses.RequestsMock
) -> None:
    code = "6901234567892"
    mock.get(off_product_url(code), status=404, json=off_not_found(code))
    mock.post(BAICHUAN_URL, json=baichuan_found(code, "Tea"))
    budget = service.budget_for(CLIENT)
    assert budget is not None
    product = service.lookup(code, budget=budget)
    assert product.provider == "baichuan"
    assert budgets.state(CLIENT).used == 2  # Open Food Facts' "not found" was an answer too
    assert service.lookup(code, budget=budget).source == "cache"
    assert budgets.state(CLIENT).used == 2


def test_a_failed_or_refused_call_is_given_back(
    service: LookupService, budgets: Budgets, mock: responses.RequestsMock
) -> None:
    code = "6901234567892"
    mock.get(off_product_url(code), status=503)
    mock.post(BAICHUAN_URL, status=429)
    outcome = service.resolve(code, budget=service.budget_for(CLIENT))
    assert outcome.status == "error"
    assert outcome.called_provider
    assert budgets.state(CLIENT).used == 0


def test_over_budget_no_provider_is_asked(
    service: LookupService, budgets: Budgets, mock: responses.RequestsMock
) -> None:
    budgets.reserve(CLIENT, 5)
    code = "6901234567892"
    outcome = service.resolve(code, budget=service.budget_for(CLIENT))
    assert isinstance(outcome.error, ClientBudgetExceeded)
    assert outcome.error.retry_after == 12 * 3600
    assert outcome.error.extra["providers"] == [
        {"name": "openfoodfacts", "outcome": "over_budget"},
        {"name": "baichuan", "outcome": "over_budget"},
    ]
    assert not outcome.called_provider
    assert outcome.blocked is not None  # an upload list may wait for the reset
    assert outcome.blocked.code == "client_budget_exceeded"
    assert outcome.blocked.until == NOON + 12 * 3600
    assert len(mock.calls) == 0
    # Nothing about the code was remembered: another caller still gets it looked up.
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert not [i for i in items if i["pk"]["S"].startswith(("PRODUCT#", "MISS#", "HEALTH#"))]


def test_a_batch_spends_exactly_the_limit(
    service: LookupService, budgets: Budgets, mock: responses.RequestsMock
) -> None:
    codes = [gtin13(n) for n in range(20)]
    for code in codes:
        mock.get(off_product_url(code), status=404, json=off_not_found(code))

    def found(request: Any) -> tuple[int, dict[str, str], str]:
        code = parse_qs(str(request.body))["code_sn"][0]
        return 200, {}, json.dumps(baichuan_found(code, f"Product {code}"))

    mock.add_callback(responses.POST, BAICHUAN_URL, callback=found)
    # One worker: moto's conditional updates are not atomic across threads (DynamoDB's
    # are, which is what keeps concurrent reservations under the limit in AWS).
    rows = batch_rows(service, codes, workers=1, budget=service.budget_for(CLIENT))
    assert budgets.state(CLIENT).used == 5
    assert len(mock.calls) == 5
    found = [r for r in rows if r["status"] == "found"]
    assert len(found) <= 2  # each found code cost two answers (Open Food Facts, Baichuan)
    refused = [r["error"]["code"] for r in rows if r["status"] == "error"]
    assert "client_budget_exceeded" in refused


def test_the_headers_view_is_cached_briefly_and_per_day(budgets: Budgets, clock: Clock) -> None:
    budget = budgets.for_client(CLIENT)
    assert budget.state() == BudgetState(5, 0, int(NOON) + 12 * 3600)
    # Another instance spends; this one's view catches up within STATE_MAX_AGE.
    Budgets(TABLE, boto3.client("dynamodb"), default_limit=5, clock=clock).reserve(CLIENT, 2)
    assert budget.state().used == 0
    clock.now += STATE_MAX_AGE + 1
    assert budget.state().used == 2
    assert budget.headers()["RateLimit"].startswith('"daily-lookups";r=3;')
    clock.now = NOON + 12 * 3600 + 1  # a new UTC day: yesterday's view is not used
    assert budget.state().used == 0


def test_headers_are_best_effort(aws: None, clock: Clock) -> None:
    budgets = Budgets("no-such-table", boto3.client("dynamodb"), default_limit=5, clock=clock)
    assert budgets.for_client(CLIENT).headers() == {}


class CountingClient:
    """A DynamoDB client that counts the calls made through it."""

    def __init__(self) -> None:
        self.real = boto3.client("dynamodb")
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.calls.append(name)
        return getattr(self.real, name)


def test_a_callers_first_answer_reads_override_and_count_in_one_trip(
    table: str, clock: Clock
) -> None:
    boto3.client("dynamodb").put_item(
        TableName=TABLE,
        Item={"pk": {"S": f"CLIENT#{CLIENT}"}, "daily_lookup_budget": {"N": "9"}},
    )
    client = CountingClient()
    budgets = Budgets(TABLE, client, default_limit=5, clock=clock)
    budgets.reserve(CLIENT, 1)  # reads the override (cached for a minute), then counts
    fresh = Budgets(TABLE, client, default_limit=5, clock=clock)
    client.calls.clear()
    assert fresh.for_client(CLIENT).state() == BudgetState(9, 1, int(NOON) + 12 * 3600)
    assert client.calls == ["batch_get_item"]
    client.calls.clear()
    clock.now += STATE_MAX_AGE + 1
    assert fresh.for_client(CLIENT).state().used == 1
    assert client.calls == ["get_item"]  # the override is still cached: the count only
