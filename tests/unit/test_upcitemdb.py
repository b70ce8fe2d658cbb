"""UPCitemdb: its answers at the edge, its trial and paid endpoints, its limits fleet-wide."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import responses

from barcode_service.credentials import SecretStore
from barcode_service.errors import (
    CredentialsMissing,
    NotFound,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamQuotaExhausted,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from barcode_service.gtin import parse_gtin
from barcode_service.lookup import LookupService
from barcode_service.providers.base import ProviderNotFound, ProviderProduct, RateLimit
from barcode_service.providers.upcitemdb import UpcitemdbProvider
from barcode_service.settings import load_settings
from barcode_service.transport import RetryPolicy, new_session
from barcode_service.wiring import build_lookup_service, build_providers
from tests.conftest import SECRET, SECRET_VALUE, TABLE, load_event
from tests.support.clocks import Clock
from tests.support.lookups import on_clock
from tests.support.providers import soon
from tests.support.upstreams import (
    UPCITEMDB_PAID_URL,
    UPCITEMDB_TRIAL_URL,
    off_not_found,
    off_product_url,
    upcitemdb_error,
    upcitemdb_found,
    upcitemdb_headers,
    upcitemdb_not_found,
)

WIPES = "044600015941"  # a US household product: Open Food Facts does not know it
RESET = int(datetime(2026, 11, 26, 7, 0, tzinfo=UTC).timestamp())
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3, backoff=0, deadline=5)


def trial(upstream: responses.RequestsMock, **answer: Any) -> None:
    """The trial endpoint answers `answer` (json, status, headers)."""
    upstream.get(UPCITEMDB_TRIAL_URL, **answer)


def provider(key: str | None = None) -> UpcitemdbProvider:
    return UpcitemdbProvider(
        "", new_session(), lambda refresh: key, policy=POLICY, clock=lambda: NOW
    )


def test_a_found_item_is_mapped_at_the_edge_without_its_prices(upstream) -> None:
    upstream.get(
        UPCITEMDB_TRIAL_URL, json=upcitemdb_found(WIPES), headers=upcitemdb_headers(97, RESET)
    )
    product = provider().lookup(parse_gtin(WIPES), soon())
    assert isinstance(product, ProviderProduct)
    assert product.fields().to_dict() == {
        "name": "Clorox Disinfecting Wipes, 75 Count",
        "brand": "Clorox",
        "company": None,
        "price": None,  # never its offers' prices as ours
        "spec": "75 Count",
        "unit": None,
        "image_url": "https://i5.walmartimages.com/asr/clorox-wipes.jpeg",
        "country": None,
    }
    assert product.details == {
        "description": "Kills 99.9% of viruses and bacteria; bleach-free.",
        "category": "Home & Garden > Household Supplies > Household Cleaning Supplies",
        "model": "01594",
        "color": None,
        "size": "75 Count",
        "dimension": "5.6 X 5.6 X 7.6 inches",
        "weight": "1.6 Pounds",
        "images": [
            "https://i5.walmartimages.com/asr/clorox-wipes.jpeg",
            "http://img.example.com/clorox.jpg",
        ],
        "ean": "0" + WIPES,
        "upc": WIPES,
        "isbn": None,
    }
    assert "price" not in json.dumps(product.details)
    assert product.quota_spent_until is None
    request = upstream.calls[0].request
    assert request.url == f"{UPCITEMDB_TRIAL_URL}?upc=0{WIPES}"
    assert "user_key" not in request.headers
    assert request.headers["User-Agent"].startswith("barcode-backend/")


def test_the_paid_endpoint_with_the_key_from_the_secret(upstream) -> None:
    upstream.get(UPCITEMDB_PAID_URL, json=upcitemdb_not_found())
    assert provider("k-123").lookup(parse_gtin(WIPES), soon()) == ProviderNotFound()
    request = upstream.calls[0].request
    assert (request.headers["user_key"], request.headers["key_type"]) == ("k-123", "3scale")
    assert request.url.startswith(UPCITEMDB_PAID_URL + "?")


def test_invalid_upc_is_its_not_found(upstream) -> None:
    trial(upstream, status=400, json=upcitemdb_error("INVALID_UPC"))
    assert provider().lookup(parse_gtin("6901234567892"), soon()) == ProviderNotFound()


def test_exceed_limit_is_a_quota_until_its_stated_reset(upstream) -> None:
    headers = {**upcitemdb_headers(0, RESET), "Retry-After": "68400"}
    upstream.get(
        UPCITEMDB_TRIAL_URL, status=429, json=upcitemdb_error("EXCEED_LIMIT"), headers=headers
    )
    with pytest.raises(UpstreamQuotaExhausted) as info:
        provider().lookup(parse_gtin(WIPES), soon())
    assert info.value.stated
    assert info.value.reset_at == datetime.fromtimestamp(RESET, UTC)
    assert info.value.retry_after == 19 * 3600
    assert len(upstream.calls) == 1


def test_exceed_limit_without_headers_waits_for_the_next_utc_midnight(upstream) -> None:
    trial(upstream, status=429, json=upcitemdb_error("EXCEED_LIMIT"))
    with pytest.raises(UpstreamQuotaExhausted) as info:
        provider().lookup(parse_gtin(WIPES), soon())
    assert not info.value.stated
    assert info.value.reset_at == datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(("retry_after", "pause"), [("12", 12), (None, 60)])
def test_too_fast_is_a_rate_block_for_its_retry_after(
    upstream, retry_after: str | None, pause: int
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    trial(upstream, status=429, json=upcitemdb_error("TOO_FAST"), headers=headers)
    with pytest.raises(UpstreamRateLimited) as info:
        provider().lookup(parse_gtin(WIPES), soon())
    assert info.value.retry_after == pause
    assert len(upstream.calls) == 1


def test_the_last_answer_of_the_allowance_says_so(upstream) -> None:
    upstream.get(
        UPCITEMDB_TRIAL_URL, json=upcitemdb_found(WIPES), headers=upcitemdb_headers(0, RESET)
    )
    product = provider().lookup(parse_gtin(WIPES), soon())
    assert isinstance(product, ProviderProduct)
    assert product.quota_spent_until == datetime.fromtimestamp(RESET, UTC)


def test_a_server_error_is_an_outage_never_retried(upstream) -> None:
    trial(upstream, status=500, json=upcitemdb_error("SERVER_ERR"))
    with pytest.raises(UpstreamUnavailable):
        provider().lookup(parse_gtin(WIPES), soon())
    assert len(upstream.calls) == 1  # every request counts against the day's allowance


def test_a_refused_key_is_refetched_once_then_an_account_problem(upstream) -> None:
    keys = iter(["old", "new"])
    asked: list[bool] = []

    def key(refresh: bool) -> str:
        asked.append(refresh)
        return next(keys)

    paid = UpcitemdbProvider("", new_session(), key, policy=POLICY)
    upstream.get(UPCITEMDB_PAID_URL, status=403, json={"code": "INVALID_KEY", "message": "bad key"})
    with pytest.raises(UpstreamAuthFailed):
        paid.lookup(parse_gtin(WIPES), soon())
    assert asked == [False, True]
    assert [c.request.headers["user_key"] for c in upstream.calls] == ["old", "new"]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, '{"code": "OK", "total": 1, "items": "x"}'),
        (200, '{"code": "OK", "total": 1, "items": [1]}'),
        (200, "[]"),
        (200, "<html><body>gateway</body></html>"),
        (400, '{"code": "INVALID_QUERY", "message": "bad"}'),
        (404, '{"code": "OK", "items": []}'),
    ],
)
def test_anything_else_is_an_error_never_a_not_found(upstream, status: int, body: str) -> None:
    trial(upstream, status=status, body=body)
    with pytest.raises(UpstreamError):
        provider().lookup(parse_gtin(WIPES), soon())


def test_it_serves_every_gtin_and_resets_at_utc_midnight() -> None:
    assert provider().serves(parse_gtin("9780140328721"))
    assert provider().quota_reset(NOW) == datetime(2026, 11, 26, tzinfo=UTC)


# --- the key in the secret ------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key"),
    [(None, None), ({"user_key": ""}, None), ({"user_key": " k-9 "}, "k-9")],
)
def test_the_key_comes_from_the_secret_or_the_trial_is_used(aws, section, key) -> None:
    document = {**SECRET_VALUE, **({"upcitemdb": section} if section is not None else {})}
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(document))
    secret = SecretStore(SECRET).upcitemdb()
    assert (secret.get_secret_value() if secret else None) == key
    assert SecretStore("").upcitemdb() is None  # no secret at all: the trial


def test_a_malformed_key_is_an_operator_problem(aws) -> None:
    document = {**SECRET_VALUE, "upcitemdb": {"user_key": 5}}
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(document))
    with pytest.raises(CredentialsMissing):
        SecretStore(SECRET).upcitemdb()


def test_the_wiring_reads_its_limits_and_key(aws) -> None:
    document = {**SECRET_VALUE, "upcitemdb": {"user_key": "k-7"}}
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(document))
    settings = load_settings(
        {
            "SECRET_ID": SECRET,
            "UPCITEMDB_DAILY_LIMIT": "20000",
            "UPCITEMDB_REQUESTS_PER_MINUTE": "300",
            "UPCITEMDB_API_URL": "https://upc.example",
        }
    )
    (upc,) = build_providers(["upcitemdb"], settings, lambda: pytest.fail("no client"))
    assert upc.limit == RateLimit(300, 60, per_day=20000)
    with responses.RequestsMock() as upstream:
        upstream.get("https://upc.example/prod/v1/lookup", json=upcitemdb_not_found())
        upc.prepare()
        upc.lookup(parse_gtin(WIPES), soon())
        assert upstream.calls[0].request.headers["user_key"] == "k-7"
    defaults = load_settings({})
    assert (defaults.upcitemdb_daily_limit, defaults.upcitemdb_requests_per_minute) == (100, 6)


# --- in the router, on the fleet's table ------------------------------------------------


def make_service(clock: Clock, **env: str) -> LookupService:
    environment = {
        **os.environ,
        "LOOKUP_PROVIDERS": "openfoodfacts,upcitemdb",
        "OPENFOODFACTS_REQUESTS_PER_MINUTE": "600000",
        "UPCITEMDB_REQUESTS_PER_MINUTE": "600000",
        **env,
    }
    return on_clock(build_lookup_service(load_settings(environment)), clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW.timestamp())


def upc_calls(upstream: responses.RequestsMock) -> int:
    return sum(1 for c in upstream.calls if str(c.request.url).startswith(UPCITEMDB_TRIAL_URL))


def test_a_household_product_unknown_to_open_food_facts_is_found_and_cached(
    table: str, secret: dict, clock: Clock, upstream
) -> None:
    service = make_service(clock)
    upstream.get(off_product_url("0" + WIPES), json=off_not_found(WIPES), status=404)
    upstream.get(
        UPCITEMDB_TRIAL_URL, json=upcitemdb_found(WIPES), headers=upcitemdb_headers(99, RESET)
    )
    first = service.lookup(WIPES).to_dict()
    assert (first["source"], first["provider"], first["brand"]) == (
        "upstream",
        "upcitemdb",
        "Clorox",
    )
    assert "UPCitemdb" in first["attribution"]
    again = service.lookup(WIPES).to_dict()
    assert (again["source"], again["provider"], again["details"]) == (
        "cache",
        "upcitemdb",
        first["details"],
    )
    assert len(upstream.calls) == 2  # one call each, then the cache


def test_the_fleets_daily_allowance_is_never_exceeded(
    table: str, secret: dict, clock: Clock, upstream
) -> None:
    service = make_service(clock, LOOKUP_PROVIDERS="upcitemdb", UPCITEMDB_DAILY_LIMIT="2")
    upstream.get(
        UPCITEMDB_TRIAL_URL, json=upcitemdb_not_found(), headers=upcitemdb_headers(50, RESET)
    )
    codes = ["036000291452", "012000161155", "028400090858", "041196910759"]
    for code in codes[:2]:
        with pytest.raises(NotFound):
            service.lookup(code)
    with pytest.raises(UpstreamQuotaExhausted) as info:
        service.lookup(codes[2])
    problem = info.value.to_problem()
    assert problem["providers"] == [
        {"name": "upcitemdb", "outcome": "quota", "retry_at": "2026-11-26T00:00:00+00:00"}
    ]
    assert info.value.retry_after == 12 * 3600
    with pytest.raises(UpstreamQuotaExhausted):
        service.lookup(codes[3])  # the block answers: not even the counter is asked
    assert upc_calls(upstream) == 2


def test_the_last_call_of_the_allowance_blocks_until_the_reset(
    table: str, secret: dict, clock: Clock, upstream
) -> None:
    service = make_service(clock, LOOKUP_PROVIDERS="upcitemdb")
    upstream.get(
        UPCITEMDB_TRIAL_URL, json=upcitemdb_found(WIPES), headers=upcitemdb_headers(0, RESET)
    )
    assert service.lookup(WIPES).provider == "upcitemdb"  # the answer is kept
    with pytest.raises(UpstreamQuotaExhausted) as info:
        service.lookup("036000291452")
    assert info.value.retry_after == RESET - int(clock.now)
    assert upc_calls(upstream) == 1  # the call it would refuse is never made


def test_exceed_limit_blocks_until_the_stated_reset_then_asks_again(
    table: str, secret: dict, clock: Clock, upstream
) -> None:
    service = make_service(clock, LOOKUP_PROVIDERS="upcitemdb")
    upstream.get(
        UPCITEMDB_TRIAL_URL,
        status=429,
        json=upcitemdb_error("EXCEED_LIMIT"),
        headers=upcitemdb_headers(0, RESET),
    )
    with pytest.raises(UpstreamQuotaExhausted) as info:
        service.lookup(WIPES)
    assert info.value.to_problem()["reset_at"] == "2026-11-26T07:00:00+00:00"
    clock.now = RESET - 60
    with pytest.raises(UpstreamQuotaExhausted):
        service.lookup(WIPES)
    assert upc_calls(upstream) == 1
    clock.now = RESET + 1
    upstream.replace(responses.GET, UPCITEMDB_TRIAL_URL, json=upcitemdb_found(WIPES))
    assert service.lookup(WIPES).provider == "upcitemdb"


def test_too_fast_pauses_it_for_its_retry_after(
    table: str, secret: dict, clock: Clock, upstream
) -> None:
    service = make_service(clock, LOOKUP_PROVIDERS="upcitemdb")
    headers = {"Retry-After": "30"}
    trial(upstream, status=429, json=upcitemdb_error("TOO_FAST"), headers=headers)
    with pytest.raises(UpstreamRateLimited) as info:
        service.lookup(WIPES)
    assert info.value.retry_after == 30
    clock.now += 10
    with pytest.raises(UpstreamRateLimited):
        service.lookup(WIPES)
    assert upc_calls(upstream) == 1


def test_through_the_lookup_handler_its_role_grants_the_daily_counter(
    table: str, secret: dict, upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.lookup import app
    from tests.integration.test_lookup_handler import invoke

    monkeypatch.setenv("LOOKUP_PROVIDERS", "upcitemdb")
    app.service.cache_clear()
    trial(upstream, json=upcitemdb_found("690123456789"))
    try:
        status, _, body = invoke(load_event("lookup_get.json"))
    finally:
        app.service.cache_clear()
    assert (status, body["provider"]) == (200, "upcitemdb")
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert [i["calls"]["N"] for i in items if i["pk"]["S"].startswith("DAY#upcitemdb#")] == ["1"]


@pytest.mark.parametrize(
    ("headers", "reset"),
    [
        ({"X-RateLimit-Reset": "3600"}, datetime(2026, 11, 25, 13, 0, tzinfo=UTC)),  # seconds
        ({"Retry-After": "1800"}, datetime(2026, 11, 25, 12, 30, tzinfo=UTC)),
        ({"X-RateLimit-Reset": "soon", "Retry-After": "x"}, datetime(2026, 11, 26, tzinfo=UTC)),
    ],
)
def test_the_reset_is_read_from_whatever_header_says_it(
    upstream, headers: dict[str, str], reset: datetime
) -> None:
    trial(upstream, status=429, json=upcitemdb_error("EXCEED_LIMIT"), headers=headers)
    with pytest.raises(UpstreamQuotaExhausted) as info:
        provider().lookup(parse_gtin(WIPES), soon())
    assert info.value.reset_at == reset


def test_a_429_without_its_json_is_a_pause(upstream) -> None:
    trial(upstream, status=429, body="<html><body>slow down</body></html>")
    with pytest.raises(UpstreamRateLimited):
        provider().lookup(parse_gtin(WIPES), soon())
