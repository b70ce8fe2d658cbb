"""The community in its place in LOOKUP_PROVIDERS: a caller's own pending contribution,
published contributions through the router, and what is (never) cached for everyone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
import responses

from barcode_service.cache import DynamoLookupStore
from barcode_service.community.model import CodeRecord, Contribution, Description
from barcode_service.community.store import DynamoCommunityStore
from barcode_service.errors import NotFound
from barcode_service.lookup import LookupService
from barcode_service.product import ProductFields
from barcode_service.settings import load_settings
from barcode_service.wiring import build_lookup_service
from tests.conftest import TABLE
from tests.support.clocks import Clock
from tests.support.lookups import on_clock
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_found,
    baichuan_not_found,
    off_found,
    off_not_found,
    off_product_url,
)

CODE = "0012345678905"
GTIN = "0" + CODE


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def lookups(table: str, secret: dict, clock: Clock) -> LookupService:
    environment = {
        **os.environ,
        "LOOKUP_PROVIDERS": "openfoodfacts,community,baichuan",
        "OPENFOODFACTS_REQUESTS_PER_MINUTE": "600000",
        "BAICHUAN_REQUESTS_PER_SECOND": "10000",
    }
    return on_clock(build_lookup_service(load_settings(environment)), clock)


def contribute(who: str, name: str = "Soap", *, published: bool = False) -> None:
    def change(record: CodeRecord) -> CodeRecord:
        record = record.with_contribution(Contribution(who, Description(name), 1, 1))
        return record.publish(who, by="operator", now=2) if published else record

    DynamoCommunityStore(TABLE, boto3.client("dynamodb")).change(GTIN, change)


def nobody_knows(mock: responses.RequestsMock) -> None:
    mock.get(off_product_url(CODE), json=off_not_found(CODE), status=404)
    mock.post(BAICHUAN_URL, json=baichuan_not_found())


def test_a_callers_own_pending_contribution_costs_no_provider_call(
    lookups: LookupService, mock: responses.RequestsMock
) -> None:
    contribute("alice")
    product = lookups.lookup(CODE, caller="alice")
    assert (product.provider, product.details["status"]) == ("community", "pending")
    assert product.max_age(lookups._clock()) == 0
    assert not mock.calls
    assert DynamoLookupStore(TABLE).snapshot(GTIN).cached is None, "nothing cached"


def test_others_are_answered_as_if_it_did_not_exist(
    lookups: LookupService, mock: responses.RequestsMock
) -> None:
    contribute("alice")
    nobody_knows(mock)
    with pytest.raises(NotFound):
        lookups.lookup(CODE, caller="bob")
    with pytest.raises(NotFound):
        lookups.lookup(CODE)
    cached = DynamoLookupStore(TABLE).snapshot(GTIN).cached
    assert cached is not None
    assert cached.status == "not_found"
    assert lookups.lookup(CODE, caller="alice").details["status"] == "pending"


def test_a_provider_listed_before_the_community_still_wins(
    lookups: LookupService, mock: responses.RequestsMock
) -> None:
    contribute("alice")
    mock.get(off_product_url(CODE), json=off_found(CODE, "Real Soap"))
    assert lookups.lookup(CODE, caller="bob").provider == "openfoodfacts"
    assert lookups.lookup(CODE, caller="alice").provider == "openfoodfacts", "cached, ahead"


def test_a_provider_listed_after_the_community_does_not(
    lookups: LookupService, mock: responses.RequestsMock
) -> None:
    mock.get(off_product_url(CODE), json=off_not_found(CODE), status=404)
    mock.post(BAICHUAN_URL, json=baichuan_found(CODE, "Paid soap"))
    assert lookups.lookup(CODE, caller="bob").provider == "baichuan"
    contribute("alice")
    assert lookups.lookup(CODE, caller="alice").provider == "community"
    assert lookups.lookup(CODE, caller="bob").provider == "baichuan"


def test_the_catalog_wins_over_everything(lookups: LookupService) -> None:
    contribute("alice")
    DynamoLookupStore(TABLE).put_catalog(GTIN, ProductFields(name="Operator's soap"))
    product = lookups.lookup(CODE, caller="alice")
    assert product.source == "catalog"
    assert product.fields.name == "Operator's soap"


def test_a_published_contribution_answers_everyone_through_the_router_and_is_cached(
    lookups: LookupService, mock: responses.RequestsMock
) -> None:
    contribute("alice", "Published soap", published=True)
    nobody_knows(mock)
    product = lookups.lookup(CODE, caller="bob")
    assert (product.provider, product.source) == ("community", "upstream")
    assert product.details["status"] == "published"
    assert product.attribution is not None
    assert "community" in product.attribution
    assert lookups.lookup(CODE).source == "cache"
    assert len(mock.calls) == 1, "Open Food Facts asked once, Baichuan never"


def test_the_community_is_read_only_when_it_is_in_use(
    table: str, secret: dict, clock: Clock, mock: responses.RequestsMock
) -> None:
    environment = {**os.environ, "LOOKUP_PROVIDERS": "baichuan"}
    service = on_clock(build_lookup_service(load_settings(environment)), clock)
    contribute("alice")
    mock.post(BAICHUAN_URL, json=baichuan_not_found())
    with pytest.raises(NotFound):
        service.lookup(CODE, caller="alice")
