"""The Open Food Facts family in one call: `product_type=all`, its redirect, its database."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from barcode_service.errors import UpstreamError
from barcode_service.gtin import parse_gtin
from barcode_service.providers.base import ProviderNotFound, ProviderProduct
from barcode_service.providers.openfoodfacts import FIELDS, OpenFactsProvider
from barcode_service.settings import load_settings
from barcode_service.transport import RetryPolicy, new_session
from barcode_service.wiring import build_providers
from tests.support.providers import soon
from tests.support.upstreams import (
    OBF_URL,
    OFF_URL,
    OPFF_URL,
    obf_found,
    off_found,
    off_not_found,
    off_product_url,
    off_redirect,
    opff_found,
)

SHAMPOO = "3600541362345"  # a beauty product: Open Beauty Facts holds it
CAT_FOOD = "7613035152342"  # pet food: Open Pet Food Facts holds it
NUTELLA = "3017620422003"
POLICY = RetryPolicy(attempts=2, backoff=0, deadline=5)


@pytest.fixture
def family() -> OpenFactsProvider:
    (provider,) = build_providers(
        ["openfoodfacts"], load_settings({}), lambda: pytest.fail("no client")
    )
    assert isinstance(provider, OpenFactsProvider)
    return provider


def test_one_call_asks_every_database_of_the_family(family: OpenFactsProvider, upstream) -> None:
    upstream.get(off_product_url(NUTELLA), json=off_found(NUTELLA, product_type="food"))
    product = family.lookup(parse_gtin(NUTELLA), soon())
    assert isinstance(product, ProviderProduct)
    query = parse_qs(urlsplit(upstream.calls[0].request.url).query)
    assert query == {"product_type": ["all"], "fields": [FIELDS]}
    assert "product_type" in FIELDS.split(",")
    assert product.details["database"] == "openfoodfacts"
    assert product.attribution is not None
    assert product.attribution.startswith(f"Data from Open Food Facts ({OFF_URL})")


def test_a_beauty_product_is_found_in_one_call_through_the_redirect(
    family: OpenFactsProvider, upstream
) -> None:
    upstream.get(off_product_url(SHAMPOO), **off_redirect(SHAMPOO, OBF_URL))
    upstream.get(off_product_url(SHAMPOO, OBF_URL), json=obf_found(SHAMPOO))
    product = family.lookup(parse_gtin(SHAMPOO), soon())
    assert isinstance(product, ProviderProduct)
    assert (product.name, product.brand, product.spec) == (
        "Shampoo Douceur",
        "Ultra Doux",
        "250 ml",
    )
    assert product.details["database"] == "openbeautyfacts"
    assert product.details["url"] == f"{OBF_URL}/product/{SHAMPOO}"
    assert product.details["nutriscore_grade"] is None
    assert product.attribution == (
        f"Data from Open Beauty Facts ({OBF_URL}), available under the Open Database "
        "License (ODbL); images under Creative Commons BY-SA."
    )
    # One provider call: the first request at Open Food Facts, the redirect followed.
    assert [urlsplit(c.request.url).netloc for c in upstream.calls] == [
        "world.openfoodfacts.org",
        "world.openbeautyfacts.org",
    ]


def test_pet_food_found_through_the_redirect(family: OpenFactsProvider, upstream) -> None:
    upstream.get(off_product_url(CAT_FOOD), **off_redirect(CAT_FOOD, OPFF_URL))
    upstream.get(off_product_url(CAT_FOOD, OPFF_URL), json=opff_found(CAT_FOOD))
    product = family.lookup(parse_gtin(CAT_FOOD), soon())
    assert isinstance(product, ProviderProduct)
    assert (product.name, product.details["database"]) == ("Adult dry cat food", "openpetfoodfacts")
    assert "Open Pet Food Facts" in (product.attribution or "")


def test_unknown_to_every_database_is_one_not_found(family: OpenFactsProvider, upstream) -> None:
    upstream.get(off_product_url(NUTELLA), json=off_not_found(NUTELLA), status=404)
    assert family.lookup(parse_gtin(NUTELLA), soon()) == ProviderNotFound()
    assert len(upstream.calls) == 1


def test_the_database_is_the_instance_that_answered_when_the_product_does_not_say(
    family: OpenFactsProvider, upstream
) -> None:
    body = obf_found(SHAMPOO)
    del body["product"]["product_type"]
    upstream.get(off_product_url(SHAMPOO), **off_redirect(SHAMPOO, OBF_URL))
    upstream.get(off_product_url(SHAMPOO, OBF_URL), json=body)
    product = family.lookup(parse_gtin(SHAMPOO), soon())
    assert isinstance(product, ProviderProduct)
    assert product.details["database"] == "openbeautyfacts"


def test_a_redirect_follows_the_configured_sister_url(upstream) -> None:
    settings = load_settings(
        {
            "OPENFOODFACTS_API_URL": "https://off.mirror.example/food",
            "OPENBEAUTYFACTS_API_URL": "https://off.mirror.example/beauty/",
        }
    )
    (family,) = build_providers(["openfoodfacts"], settings, lambda: pytest.fail("no client"))
    beauty = "https://off.mirror.example/beauty"
    upstream.get(
        off_product_url(SHAMPOO, "https://off.mirror.example/food"),
        **off_redirect(SHAMPOO, beauty),
    )
    upstream.get(off_product_url(SHAMPOO, beauty), json=obf_found(SHAMPOO))
    product = family.lookup(parse_gtin(SHAMPOO), soon())
    assert isinstance(product, ProviderProduct)
    assert product.details["url"] == f"{beauty}/product/{SHAMPOO}"


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example",  # another host
        "http://world.openbeautyfacts.org",  # the sister's host on another scheme
        "https://world.openbeautyfacts.org.evil.example",  # a host that only starts alike
        "https://off.mirror.example/other",  # the configured host, outside its path
    ],
)
def test_a_redirect_anywhere_else_is_an_error_and_not_followed(upstream, elsewhere: str) -> None:
    settings = load_settings({"OPENPETFOODFACTS_API_URL": "https://off.mirror.example/pets"})
    (family,) = build_providers(["openfoodfacts"], settings, lambda: pytest.fail("no client"))
    upstream.get(off_product_url(SHAMPOO), **off_redirect(SHAMPOO, elsewhere))
    upstream.get(off_product_url(SHAMPOO, elsewhere), json=obf_found(SHAMPOO))
    with pytest.raises(UpstreamError, match="redirected us to a host"):
        family.lookup(parse_gtin(SHAMPOO), soon())
    assert len(upstream.calls) == 1


def test_a_redirect_loop_ends(family: OpenFactsProvider, upstream) -> None:
    upstream.get(off_product_url(SHAMPOO), **off_redirect(SHAMPOO, OFF_URL))
    with pytest.raises(UpstreamError, match="redirected us more than"):
        family.lookup(parse_gtin(SHAMPOO), soon())


def test_a_family_provider_has_one_name_and_one_limit() -> None:
    settings = load_settings({"OPENFOODFACTS_REQUESTS_PER_MINUTE": "50"})
    (family,) = build_providers(
        ["openbeautyfacts", "openproductsfacts"], settings, lambda: pytest.fail("no client")
    )
    assert (family.name, family.limit.requests, family.limit.per_seconds) == (
        "openfoodfacts",
        50,
        60,
    )
    assert load_settings({"LOOKUP_PROVIDERS": "openpetfoodfacts,openlibrary"}).provider_names() == (
        "openfoodfacts",
        "openlibrary",
    )


def test_a_redirect_is_not_followed_where_the_request_allows_none(upstream) -> None:
    from barcode_service.transport import Reply, Request, exchange

    upstream.get("https://x.example/a", status=302, headers={"Location": "https://x.example/b"})
    request = Request("X", "https://x.example/a")
    with pytest.raises(UpstreamError, match="HTTP 302"):
        exchange(new_session(), request, POLICY, Reply.json)
    assert len(upstream.calls) == 1
