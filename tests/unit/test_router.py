"""The lookup router end to end in the layer: three providers, moto, `responses` mocks.

Open Food Facts, Open Library and Baichuan answer with their real shapes; the fleet
limiter runs on the moto table (limits raised so tests do not wait, except where a
test is about the limit).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses

from barcode_service.errors import NotFound, UpstreamError, UpstreamRateLimited
from barcode_service.lookup import LookupService
from barcode_service.product import ProductFields
from barcode_service.settings import load_settings
from barcode_service.wiring import build_lookup_service
from tests.support.clocks import Clock
from tests.support.lookups import on_clock
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_failure,
    baichuan_found,
    baichuan_not_found,
    off_found,
    off_not_found,
    off_product_url,
    openlibrary_books_url,
    openlibrary_found,
)

FOOD = "3017620422003"  # Open Food Facts knows it
CHINA = "6901234567892"  # only Baichuan knows it
BOOK = "9780140328721"  # only Open Library knows it
NOBODY = "4006381333931"


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def make_service(clock: Clock, **env: str) -> LookupService:
    environment = {
        **os.environ,
        "LOOKUP_PROVIDERS": "openfoodfacts,openlibrary,baichuan",
        "OPENFOODFACTS_REQUESTS_PER_MINUTE": "600000",
        "OPENLIBRARY_REQUESTS_PER_MINUTE": "600000",
        "BAICHUAN_REQUESTS_PER_SECOND": "10000",
        **env,
    }
    settings = load_settings(environment)
    real = build_lookup_service(settings)
    return on_clock(real, clock)


@pytest.fixture
def service(table: str, secret: dict, clock: Clock) -> LookupService:
    return make_service(clock)


def calls_to(mock: responses.RequestsMock, prefix: str) -> int:
    return sum(1 for call in mock.calls if str(call.request.url).startswith(prefix))


OFF = "https://world.openfoodfacts.org/"
LIBRARY = "https://openlibrary.org/"


def off_says(mock: responses.RequestsMock, code: str, **kwargs: object) -> None:
    mock.get(off_product_url(code), **kwargs)  # type: ignore[arg-type]


def test_a_code_only_open_food_facts_knows(service: LookupService, mock) -> None:
    off_says(mock, FOOD, json=off_found(FOOD))
    first = service.lookup(FOOD).to_dict()
    assert (first["source"], first["provider"], first["name"]) == (
        "upstream",
        "openfoodfacts",
        "Nutella",
    )
    assert "ODbL" in first["attribution"]
    assert first["details"]["nutriscore_grade"] == "e"
    again = service.lookup(FOOD).to_dict()
    assert (again["source"], again["provider"]) == ("cache", "openfoodfacts")
    assert again["attribution"] == first["attribution"]
    assert again["details"] == first["details"]
    assert len(mock.calls) == 1  # Baichuan never asked: the free source answered


def test_a_code_only_baichuan_knows(service: LookupService, mock) -> None:
    off_says(mock, CHINA, json=off_not_found(CHINA), status=404)
    mock.post(BAICHUAN_URL, json=baichuan_found(CHINA, "Green Tea"))
    product = service.lookup(CHINA).to_dict()
    assert (product["provider"], product["name"], product["attribution"]) == (
        "baichuan",
        "Green Tea",
        None,
    )
    assert product["details"] == {"category": "食品"}
    assert service.lookup(CHINA).source == "cache"
    assert (calls_to(mock, OFF), calls_to(mock, BAICHUAN_URL)) == (1, 1)


def test_a_book_goes_to_open_library_only(service: LookupService, mock) -> None:
    mock.get(openlibrary_books_url(), json=openlibrary_found(BOOK))
    product = service.lookup(BOOK).to_dict()
    assert (product["provider"], product["company"]) == ("openlibrary", "Puffin")
    assert product["details"]["authors"] == ["Roald Dahl"]
    assert (calls_to(mock, OFF), calls_to(mock, LIBRARY), calls_to(mock, BAICHUAN_URL)) == (0, 1, 0)


def test_a_code_nobody_knows_is_a_cached_404(service: LookupService, mock, clock) -> None:
    off_says(mock, NOBODY, json=off_not_found(NOBODY))  # an older server: 200, status 0
    mock.post(BAICHUAN_URL, json=baichuan_not_found("德国"))
    with pytest.raises(NotFound) as info:
        service.lookup(NOBODY)
    problem = info.value.to_problem()
    assert (problem["source"], problem["country"]) == ("upstream", "德国")
    assert problem["providers"] == [
        {"name": "openfoodfacts", "outcome": "not_found"},
        {"name": "openlibrary", "outcome": "not_served"},
        {"name": "baichuan", "outcome": "not_found"},
    ]
    with pytest.raises(NotFound) as again:
        service.lookup(NOBODY)
    assert again.value.to_problem()["source"] == "cache"
    assert len(mock.calls) == 2


def test_one_provider_down_is_503_only_when_nobody_else_answered(
    table: str, secret: dict, mock, clock
) -> None:
    # The breaker opens on the first failure here; test_provider_health has the streak.
    service = make_service(clock, PROVIDER_FAILURES_TO_OPEN="1")
    off_says(mock, NOBODY, status=503)
    mock.post(BAICHUAN_URL, json=baichuan_not_found())
    with pytest.raises(UpstreamError) as info:
        service.lookup(NOBODY)
    problem = info.value.to_problem()
    assert (problem["status"], problem["code"], problem["provider"]) == (
        503,
        "upstream_unavailable",
        "openfoodfacts",
    )
    assert info.value.retry_after
    assert problem["providers"] == [
        {"name": "openfoodfacts", "outcome": "outage", "retry_at": "2026-11-25T12:00:30+00:00"},
        {"name": "openlibrary", "outcome": "not_served"},
        {"name": "baichuan", "outcome": "not_found"},
    ]
    asked = len(mock.calls)
    # Open Food Facts is left alone for a while and Baichuan's own "not found" is cached:
    # the same answer without a single call.
    with pytest.raises(UpstreamError):
        service.lookup(NOBODY)
    assert len(mock.calls) == asked
    # After the outage window Open Food Facts is asked again; Baichuan still is not.
    clock.now += 31
    mock.replace(responses.GET, off_product_url(NOBODY), json=off_not_found(NOBODY), status=404)
    with pytest.raises(NotFound):
        service.lookup(NOBODY)
    assert (calls_to(mock, OFF), calls_to(mock, BAICHUAN_URL)) == (4, 1)  # 3 attempts + 1


def test_one_provider_down_another_answers(service: LookupService, mock) -> None:
    off_says(mock, CHINA, status=503)
    mock.post(BAICHUAN_URL, json=baichuan_found(CHINA))
    assert service.lookup(CHINA).provider == "baichuan"


def test_garbage_and_slow_answers_never_become_not_found(service: LookupService, mock) -> None:
    import requests

    off_says(mock, NOBODY, body="<!DOCTYPE html><html><body>oops</body></html>")
    mock.post(BAICHUAN_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(UpstreamError) as info:
        service.lookup(NOBODY)
    assert [p["outcome"] for p in info.value.to_problem()["providers"]] == [
        "outage",
        "not_served",
        "outage",
    ]
    assert info.value.retry_after  # even for a garbled answer, which names none


def test_rate_limited_provider_pauses_for_its_retry_after(
    service: LookupService, mock, clock
) -> None:
    off_says(mock, FOOD, status=429, headers={"Retry-After": "120"})
    mock.post(BAICHUAN_URL, json=baichuan_not_found())
    with pytest.raises(UpstreamRateLimited) as info:
        service.lookup(FOOD)
    assert info.value.retry_after == 120
    clock.now += 60
    off_says(mock, NOBODY, json=off_found(NOBODY))
    with pytest.raises(UpstreamRateLimited):
        service.lookup(NOBODY)  # still paused: not asked
    assert calls_to(mock, OFF) == 1


def test_listed_but_not_configured_provider_cannot_answer(table: str, clock: Clock, mock) -> None:
    import json

    import boto3

    from tests.conftest import SECRET

    boto3.client("secretsmanager").create_secret(
        Name=SECRET, SecretString=json.dumps({"lookup": {"api_key": "", "secret_key": ""}})
    )
    service = make_service(clock)
    off_says(mock, NOBODY, json=off_not_found(NOBODY), status=404)
    with pytest.raises(UpstreamError) as info:
        service.lookup(NOBODY)
    problem = info.value.to_problem()
    assert (problem["status"], problem["code"], problem["provider"]) == (
        503,
        "upstream_not_configured",
        "baichuan",
    )
    # The keyless providers alone: the same code is a plain (cached) not found.
    keyless = make_service(clock, LOOKUP_PROVIDERS="openfoodfacts,openlibrary")
    with pytest.raises(NotFound):
        keyless.lookup(NOBODY)
    assert calls_to(mock, OFF) == 1  # its own "not found" was remembered from the first


def test_stale_entry_answers_when_providers_cannot(service: LookupService, mock, clock) -> None:
    off_says(mock, FOOD, json=off_found(FOOD, "Old name"))
    service.lookup(FOOD)
    clock.now += 31 * 86_400
    mock.replace(responses.GET, off_product_url(FOOD), status=503)
    mock.post(BAICHUAN_URL, json=baichuan_not_found())
    product = service.lookup(FOOD).to_dict()
    assert (product["stale"], product["name"], product["provider"]) == (
        True,
        "Old name",
        "openfoodfacts",
    )


def test_quota_block_is_per_provider(service: LookupService, mock) -> None:
    off_says(mock, CHINA, json=off_not_found(CHINA), status=404)
    mock.post(BAICHUAN_URL, json=baichuan_failure("今日查询次数已用完"))
    with pytest.raises(UpstreamError) as info:
        service.lookup(CHINA)
    assert info.value.to_problem()["code"] == "upstream_quota_exhausted"
    assert info.value.retry_after == 4 * 3600  # China midnight on the service's clock
    off_says(mock, FOOD, json=off_found(FOOD))
    assert service.lookup(FOOD).provider == "openfoodfacts"  # the free source still answers
    assert calls_to(mock, BAICHUAN_URL) == 1


def test_catalog_overrides_every_provider(service: LookupService, mock) -> None:
    service.store.put_catalog("0" + FOOD, ProductFields(name="Ours"))
    product = service.lookup(FOOD).to_dict()
    assert (product["source"], product["provider"], product["details"]) == ("catalog", None, {})
    assert len(mock.calls) == 0


def test_a_caller_over_the_fleet_limit_gets_a_defined_answer(
    table: str, secret: dict, clock: Clock, mock
) -> None:
    service = make_service(clock, OPENFOODFACTS_REQUESTS_PER_MINUTE="1")
    off_says(mock, FOOD, json=off_found(FOOD))
    off_says(mock, NOBODY, json=off_found(NOBODY))
    mock.post(BAICHUAN_URL, json=baichuan_found(NOBODY, "From Baichuan"))
    assert service.lookup(FOOD).provider == "openfoodfacts"
    # The next Open Food Facts slot is a minute away: it is skipped, not waited for.
    assert service.lookup(NOBODY).provider == "baichuan"
    assert calls_to(mock, OFF) == 1


def test_uploads_use_their_own_provider_list(table: str, secret: dict) -> None:
    settings = load_settings({**os.environ, "UPLOAD_LOOKUP_PROVIDERS": "openlibrary,baichuan"})
    assert build_lookup_service(settings, uploads=True).provider_names == (
        "openlibrary",
        "baichuan",
    )
    defaults = load_settings({})
    assert "openfoodfacts" not in defaults.provider_names(uploads=True)


def test_a_provider_without_keys_takes_no_limiter_slot() -> None:
    from barcode_service.errors import CredentialsNotConfigured
    from barcode_service.gtin import parse_gtin
    from barcode_service.providers.baichuan import BaichuanClient
    from tests.support.providers import FreeLimiter, OpenGate, baichuan_router

    def keys(refresh: bool) -> tuple[str, str]:
        raise CredentialsNotConfigured("no lookup keys")

    limiter = FreeLimiter()
    router = baichuan_router(BaichuanClient(BAICHUAN_URL, keys), limiter)
    route = router.route(parse_gtin(CHINA), OpenGate())
    assert route.summary() == [{"name": "baichuan", "outcome": "not_configured"}]
    assert limiter.acquired == []
