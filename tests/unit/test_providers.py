"""Provider modules against `responses` mocks with the providers' real answer shapes."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from barcode_service.errors import (
    CredentialsNotConfigured,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from barcode_service.gtin import check_digit, parse_gtin
from barcode_service.providers import PROVIDER_NAMES, parse_names
from barcode_service.providers.base import ProviderNotFound, ProviderProduct, is_book
from barcode_service.providers.openfoodfacts import FIELDS, OpenFactsProvider
from barcode_service.providers.openlibrary import OpenLibraryProvider
from barcode_service.router import ask, outcome_of
from barcode_service.settings import SettingsError, load_settings
from barcode_service.transport import RetryPolicy, new_session, user_agent
from barcode_service.wiring import build_providers
from tests.support.upstreams import (
    OFF_URL,
    off_found,
    off_not_found,
    off_product_url,
    openlibrary_books_url,
    openlibrary_found,
)

NUTELLA = "3017620422003"
FOX = "9780140328721"
POLICY = RetryPolicy(attempts=2, backoff=0, deadline=5)


def deadline() -> float:
    return time.monotonic() + 5


@pytest.fixture
def mock() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def off() -> OpenFactsProvider:
    return OpenFactsProvider(new_session(), {"openfoodfacts": OFF_URL}, policy=POLICY)


@pytest.fixture
def library() -> OpenLibraryProvider:
    return OpenLibraryProvider("https://openlibrary.org", new_session(), policy=POLICY)


def test_off_found_is_translated_to_our_fields(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url(NUTELLA), json=off_found(NUTELLA))
    product = off.lookup(parse_gtin(NUTELLA), deadline())
    assert isinstance(product, ProviderProduct)
    assert product.fields().to_dict() == {
        "name": "Nutella",
        "brand": "Ferrero",
        "company": "Ferrero",
        "price": None,
        "spec": "400 g",
        "unit": None,
        "image_url": f"https://images.openfoodfacts.org/images/products/{NUTELLA}/front_en.jpg",
        "country": "Italy",
    }
    assert product.details["nutriscore_grade"] == "e"
    assert product.details["nova_group"] == 4
    assert product.details["allergens"] == ["milk", "nuts", "soybeans"]
    assert product.details["sold_in"] == ["France", "Germany", "Italy"]
    assert product.details["url"] == f"{OFF_URL}/product/{NUTELLA}"
    query = parse_qs(urlsplit(mock.calls[0].request.url).query)
    assert query["fields"] == [FIELDS]
    assert "ODbL" in (off.attribution or "")


def test_off_sparse_product_keeps_absent_fields_null(off: OpenFactsProvider, mock) -> None:
    sparse = {"code": NUTELLA, "status": 1, "product": {"product_name": "", "brands": ""}}
    mock.get(off_product_url(NUTELLA), json=sparse)
    product = off.lookup(parse_gtin(NUTELLA), deadline())
    assert isinstance(product, ProviderProduct)
    assert set(product.fields().to_dict().values()) == {None}
    assert product.details["allergens"] == []
    assert product.details["nutriscore_grade"] is None


def test_off_quantity_falls_back_to_amount_and_unit(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url(NUTELLA), json=off_found(NUTELLA, quantity="", nova_group="x"))
    product = off.lookup(parse_gtin(NUTELLA), deadline())
    assert isinstance(product, ProviderProduct)
    assert product.spec == "400 g"
    assert product.details["nova_group"] is None


@pytest.mark.parametrize("status", [404, 200])
def test_off_not_found_with_404_or_200_status_0(off: OpenFactsProvider, mock, status: int) -> None:
    mock.get(off_product_url(NUTELLA), json=off_not_found(NUTELLA), status=status)
    assert off.lookup(parse_gtin(NUTELLA), deadline()) == ProviderNotFound()


def test_off_sends_upc_a_as_ean13(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url("0036000291452"), json=off_not_found("0036000291452"))
    off.lookup(parse_gtin("036000291452"), deadline())
    assert len(mock.calls) == 1


def test_off_429_is_rate_limited_without_retry(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url(NUTELLA), status=429, headers={"Retry-After": "42"})
    with pytest.raises(UpstreamRateLimited) as info:
        off.lookup(parse_gtin(NUTELLA), deadline())
    assert info.value.retry_after == 42
    assert len(mock.calls) == 1


def test_off_429_without_retry_after_pauses_a_minute(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url(NUTELLA), status=429)
    with pytest.raises(UpstreamRateLimited) as info:
        off.lookup(parse_gtin(NUTELLA), deadline())
    assert info.value.retry_after == 60


def test_off_503_is_retried_then_an_outage(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url(NUTELLA), status=503, body="<html><body>busy</body></html>")
    with pytest.raises(UpstreamUnavailable):
        off.lookup(parse_gtin(NUTELLA), deadline())
    assert len(mock.calls) == POLICY.attempts


def test_off_503_then_found(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url(NUTELLA), status=503)
    mock.get(off_product_url(NUTELLA), json=off_found(NUTELLA))
    assert isinstance(off.lookup(parse_gtin(NUTELLA), deadline()), ProviderProduct)


def test_off_slow_answer_is_a_timeout_not_retried(off: OpenFactsProvider, mock) -> None:
    mock.get(off_product_url(NUTELLA), body=requests.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout):
        off.lookup(parse_gtin(NUTELLA), deadline())
    assert len(mock.calls) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, "{not json"),
        (200, "<!DOCTYPE html><html><body>Maintenance</body></html>"),
        (200, "[1, 2]"),
        (200, '{"status": 1}'),
        (200, '{"status": "weird"}'),
        (404, "<html><body>Not Found</body></html>"),
        (403, '{"status": 0}'),
    ],
)
def test_off_garbage_is_an_error_never_a_not_found(
    off: OpenFactsProvider, mock, status: int, body: str
) -> None:
    mock.get(off_product_url(NUTELLA), body=body, status=status)
    with pytest.raises(UpstreamError):
        off.lookup(parse_gtin(NUTELLA), deadline())


def test_off_serves_goods_not_publications(off: OpenFactsProvider) -> None:
    assert off.serves(parse_gtin(NUTELLA))
    assert not off.serves(parse_gtin(FOX))
    assert not off.serves(parse_gtin("9771234567003"))


@pytest.mark.parametrize("name", ["openbeautyfacts", "openpetfoodfacts", "openproductsfacts"])
def test_sister_database_names_are_aliases_of_the_one_call(name: str, mock) -> None:
    (provider,) = build_providers(
        [name, "openfoodfacts", name], load_settings({}), lambda: pytest.fail("no client")
    )
    assert provider.name == "openfoodfacts"
    mock.get(off_product_url(NUTELLA), json=off_found(NUTELLA))
    assert isinstance(provider.lookup(parse_gtin(NUTELLA), deadline()), ProviderProduct)
    assert len(mock.calls) == 1
    assert parse_names(f"openlibrary,{name},openfoodfacts") == ("openlibrary", "openfoodfacts")


def test_openlibrary_found_book(library: OpenLibraryProvider, mock) -> None:
    mock.get(openlibrary_books_url(), json=openlibrary_found(FOX))
    book = library.lookup(parse_gtin(FOX), deadline())
    assert isinstance(book, ProviderProduct)
    assert book.name == "Fantastic Mr Fox: A Puffin Book"
    assert book.company == "Puffin"
    assert book.spec == "96 pages"
    assert book.image_url == "https://covers.openlibrary.org/b/id/8739161-L.jpg"
    assert book.details["authors"] == ["Roald Dahl"]
    assert book.details["publish_date"] == "October 1, 1988"
    assert book.details["isbn_10"] == ["0140328726"]
    query = parse_qs(urlsplit(mock.calls[0].request.url).query)
    assert query == {"bibkeys": [f"ISBN:{FOX}"], "format": ["json"], "jscmd": ["data"]}


def test_openlibrary_empty_object_is_not_found(library: OpenLibraryProvider, mock) -> None:
    mock.get(openlibrary_books_url(), json={})
    assert library.lookup(parse_gtin(FOX), deadline()) == ProviderNotFound()


@pytest.mark.parametrize("body", [[], {"ISBN:9999999999999": {"title": "x"}}, {f"ISBN:{FOX}": "x"}])
def test_openlibrary_odd_bodies_are_errors(library: OpenLibraryProvider, mock, body) -> None:
    mock.get(openlibrary_books_url(), json=body)
    with pytest.raises(UpstreamError):
        library.lookup(parse_gtin(FOX), deadline())


def test_openlibrary_serves_isbns_only() -> None:
    ismn = "979000000000" + str(check_digit("979000000000"))
    assert is_book(parse_gtin(FOX))
    assert is_book(parse_gtin("9791032300824"))
    assert not is_book(parse_gtin(ismn))
    assert not is_book(parse_gtin(NUTELLA))
    assert not is_book(parse_gtin("12345670"))


def test_user_agent_names_project_version_and_contact(mock) -> None:
    settings = load_settings({"PROVIDER_CONTACT": "ops@example.com"})
    (provider,) = build_providers(["openfoodfacts"], settings, lambda: pytest.fail("no client"))
    mock.get(off_product_url(NUTELLA), json=off_not_found(NUTELLA), status=404)
    provider.lookup(parse_gtin(NUTELLA), deadline())
    agent = mock.calls[0].request.headers["User-Agent"]
    assert agent.startswith("barcode-backend/")
    assert agent.endswith("(ops@example.com)")
    assert user_agent("  (a)\n b ") == user_agent("a b")
    # No contact configured: none is made up (the project's page is not the operator's).
    assert user_agent("") == user_agent("()") == agent.removesuffix(" (ops@example.com)")
    assert "(" not in user_agent("")


def test_ask_classifies_every_outcome(off: OpenFactsProvider, mock) -> None:
    gtin = parse_gtin(NUTELLA)
    mock.get(off_product_url(NUTELLA), json=off_found(NUTELLA))
    mock.get(off_product_url(NUTELLA), json=off_not_found(NUTELLA), status=404)
    mock.get(off_product_url(NUTELLA), status=429)
    found, missing, limited = (ask(off, gtin, deadline()) for _ in range(3))
    assert (found.outcome, found.called, found.answered) == ("found", True, True)
    assert (missing.outcome, missing.answered) == ("not_found", True)
    assert (limited.outcome, limited.answered) == ("rate_limited", False)
    assert isinstance(limited.error, UpstreamRateLimited)


def test_outcome_of_account_errors() -> None:
    from datetime import UTC, datetime

    from barcode_service.errors import (
        UpstreamAuthFailed,
        UpstreamPlanExhausted,
        UpstreamQuotaExhausted,
    )

    now = datetime.now(UTC)
    assert outcome_of(UpstreamQuotaExhausted("q", reset_at=now, now=now)) == "quota"
    assert outcome_of(UpstreamAuthFailed("a")) == "auth"
    assert outcome_of(UpstreamPlanExhausted("p")) == "auth"
    assert outcome_of(CredentialsNotConfigured("n")) == "not_configured"
    assert outcome_of(UpstreamError("e")) == "outage"


def test_provider_lists_are_checked_settings() -> None:
    settings = load_settings({"LOOKUP_PROVIDERS": " OpenLibrary, baichuan,openlibrary "})
    assert settings.provider_names() == ("openlibrary", "baichuan")
    assert load_settings({}).provider_names() == (
        "openfoodfacts",
        "openlibrary",
        "upcitemdb",
        "community",
        "baichuan",
    )
    assert load_settings({}).provider_names(uploads=True) == ("openlibrary", "baichuan")
    for bad in ("openfoodfacts,nope", " , "):
        with pytest.raises(SettingsError, match="LOOKUP_PROVIDERS"):
            load_settings({"LOOKUP_PROVIDERS": bad})
    assert set(parse_names(",".join(PROVIDER_NAMES))) == set(PROVIDER_NAMES)


def test_baichuan_provider_wraps_the_client_unchanged(mock) -> None:
    from barcode_service.providers.baichuan import BaichuanClient
    from tests.support.upstreams import (
        BAICHUAN_URL,
        baichuan_found,
        baichuan_not_found,
    )

    def client() -> BaichuanClient:
        return BaichuanClient(BAICHUAN_URL, lambda refresh: ("k", "s"), policy=POLICY)

    (provider,) = build_providers(["baichuan"], load_settings({}), client)
    mock.post(BAICHUAN_URL, json=baichuan_found("6901234567892", "Green Tea"))
    mock.post(BAICHUAN_URL, json=baichuan_not_found("中国"))
    product = provider.lookup(parse_gtin("6901234567892"), deadline())
    assert isinstance(product, ProviderProduct)
    assert (product.name, product.price) == ("Green Tea", "29.90")
    assert product.details == {"category": "食品"}
    assert provider.lookup(parse_gtin("6901234567892"), deadline()) == ProviderNotFound("中国")
    assert provider.serves(parse_gtin(FOX))
    assert provider.attribution is None
    assert provider.limit.interval == 1 / 20


def test_baichuan_without_keys_is_not_configured() -> None:
    from barcode_service.providers.baichuan import BaichuanClient

    def keys(refresh: bool) -> tuple[str, str]:
        raise CredentialsNotConfigured("no lookup keys")

    (provider,) = build_providers(
        ["baichuan"], load_settings({}), lambda: BaichuanClient("https://x.invalid/", keys)
    )
    result = ask(provider, parse_gtin(NUTELLA), deadline())
    assert (result.outcome, result.called) == ("not_configured", False)


@pytest.mark.parametrize(
    ("environment", "per_minute"),
    [
        ({}, 60),  # no contact: once a second
        ({"PROVIDER_CONTACT": "ops@example.com"}, 180),  # a contact: three times a second
        ({"PROVIDER_CONTACT": " ( ) "}, 60),  # nothing a provider could write to
        ({"PROVIDER_CONTACT": "ops@example.com", "OPENLIBRARY_REQUESTS_PER_MINUTE": "30"}, 30),
        ({"OPENLIBRARY_REQUESTS_PER_MINUTE": "90"}, 90),  # set explicitly: as set
    ],
)
def test_open_library_rate_follows_the_contact(environment: dict, per_minute: int) -> None:
    settings = load_settings(environment)
    (library,) = build_providers(["openlibrary"], settings, lambda: pytest.fail("no client"))
    assert (library.limit.requests, library.limit.per_seconds) == (per_minute, 60)


def test_without_a_contact_the_start_up_log_says_open_library_may_refuse(
    table: str, caplog: pytest.LogCaptureFixture
) -> None:
    from barcode_service.wiring import build_lookup_service

    caplog.set_level("WARNING")
    build_lookup_service(load_settings({"LOOKUP_PROVIDERS": "openfoodfacts,openlibrary"}))
    warnings = [r.getMessage() for r in caplog.records if "PROVIDER_CONTACT" in r.getMessage()]
    assert len(warnings) == 1
    assert "Open Library may refuse calls" in warnings[0]
    caplog.clear()
    build_lookup_service(
        load_settings({"LOOKUP_PROVIDERS": "openlibrary", "PROVIDER_CONTACT": "a@b"})
    )
    build_lookup_service(load_settings({"LOOKUP_PROVIDERS": "openfoodfacts"}))
    assert not [r for r in caplog.records if "PROVIDER_CONTACT" in r.getMessage()]
