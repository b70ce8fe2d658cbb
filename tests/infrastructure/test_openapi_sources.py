"""The OpenAPI document tied to the code: statuses, provider outcomes, providers, details."""

from __future__ import annotations

import time
from typing import Any

import responses

from barcode_service.errors import NotFound, NotServed
from barcode_service.gtin import parse_gtin
from barcode_service.openapi import openapi_document
from barcode_service.providers import ALIASES, PROVIDER_NAMES
from barcode_service.providers.base import ProviderProduct
from barcode_service.providers.openfoodfacts import DATABASES
from barcode_service.settings import load_settings
from barcode_service.statuses import LOOKUP_STATUSES, CodeStatus, ProviderOutcome
from barcode_service.wiring import build_providers
from tests.support.upstreams import (
    UPCITEMDB_TRIAL_URL,
    off_found,
    off_product_url,
    openlibrary_books_url,
    openlibrary_found,
    upcitemdb_found,
)


def schemas() -> dict[str, Any]:
    document: dict[str, Any] = openapi_document()
    return document["components"]["schemas"]  # type: ignore[no-any-return]


def test_row_and_scan_statuses_are_the_code_statuses() -> None:
    rows = schemas()["BatchLookupResult"]["properties"]["status"]["enum"]
    assert set(rows) == {*map(str, LOOKUP_STATUSES), CodeStatus.NOT_SERVED}
    scans = schemas()["Scan"]["properties"]["status"]["enum"]
    assert set(scans) == set(map(str, CodeStatus))


def test_provider_outcomes_are_the_router_outcomes() -> None:
    outcome = schemas()["ProviderOutcome"]["properties"]
    assert set(outcome["outcome"]["enum"]) == set(map(str, ProviderOutcome))
    assert "retry_at" in outcome


def test_a_404_is_not_found_or_not_served() -> None:
    problem = schemas()["NotFoundProblem"]["allOf"][1]["properties"]["code"]["enum"]
    assert problem == [NotFound.code, NotServed.code]
    assert NotServed.code in schemas()["Problem"]["properties"]["code"]["x-known-values"]


def test_every_provider_its_details_and_its_databases_are_documented() -> None:
    product = schemas()["Product"]["properties"]
    details = product["details"]["description"]
    for name in PROVIDER_NAMES:
        assert f"`{name}`" in product["provider"]["description"], name
        assert f"{name}:" in details, name
    assert all(name in details for name in DATABASES)
    assert not any(f"`{alias}`" in product["provider"]["description"] for alias in ALIASES)
    for name, answer in sample_answers().items():
        listed = details.split(f"{name}:", 1)[1].split(". ", 1)[0]
        for key in answer.details:
            assert key in listed, (name, key)


def sample_answers() -> dict[str, ProviderProduct]:
    """One found product of each keyless provider, as it parses the real shapes."""
    settings = load_settings({})
    names = ["openfoodfacts", "openlibrary", "upcitemdb"]
    providers = build_providers(names, settings, lambda: NotImplemented)
    codes = {"openfoodfacts": "3017620422003", "openlibrary": "9780140328721"}
    codes["upcitemdb"] = "044600015941"
    answers = {}
    with responses.RequestsMock() as mock:
        mock.get(off_product_url(codes["openfoodfacts"]), json=off_found(codes["openfoodfacts"]))
        mock.get(openlibrary_books_url(), json=openlibrary_found(codes["openlibrary"]))
        mock.get(UPCITEMDB_TRIAL_URL, json=upcitemdb_found(codes["upcitemdb"]))
        for provider in providers:
            answer = provider.lookup(parse_gtin(codes[provider.name]), time.monotonic() + 5)
            assert isinstance(answer, ProviderProduct)
            answers[provider.name] = answer
    return answers
