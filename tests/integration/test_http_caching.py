"""HTTP caching of answers: Cache-Control and a strong ETag, 304 on If-None-Match."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from barcode_service.api import entity_tag, matches
from barcode_service.gtin import parse_gtin
from barcode_service.product import CATALOG_MAX_AGE, Product, ProductFields
from functions.generate import app as generate_app
from functions.lookup import app as lookup_app
from local.context import LambdaContext
from tests.conftest import load_event, response_headers
from tests.support.upstreams import BAICHUAN_URL, baichuan_found

FOUND_TTL = 5000


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FOUND_TTL_SECONDS", str(FOUND_TTL))
    monkeypatch.setenv("GENERATE_BACKEND", "local")
    lookup_app.service.cache_clear()
    generate_app.service.cache_clear()
    yield
    lookup_app.service.cache_clear()
    generate_app.service.cache_clear()


def call(module: Any, event: dict[str, Any], if_none_match: str | None = None) -> Any:
    event = copy.deepcopy(event)
    if if_none_match is not None:
        event["headers"]["If-None-Match"] = if_none_match
        event["multiValueHeaders"]["If-None-Match"] = [if_none_match]
    response = module.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), response["body"]


def _max_age(cache_control: str) -> int:
    return int(cache_control.split("max-age=")[1].split(",", maxsplit=1)[0])


def test_a_product_is_fresh_for_what_is_left_of_the_cache(table: str, secret: dict) -> None:
    with responses.RequestsMock() as upstream:
        upstream.post(BAICHUAN_URL, json=baichuan_found("6901234567892", "Jasmine Tea"))
        status, headers, body = call(lookup_app, load_event("lookup_get.json"))
    assert status == 200
    assert headers["Cache-Control"].startswith("private, max-age=")
    assert FOUND_TTL - 60 <= _max_age(headers["Cache-Control"]) <= FOUND_TTL
    assert headers["ETag"] == entity_tag(body)
    assert not headers["ETag"].startswith("W/")
    # From the cache now: a new body (source), a new tag, and a max-age that does not grow.
    status, again, cached_body = call(lookup_app, load_event("lookup_get.json"))
    assert json.loads(cached_body)["source"] == "cache"
    assert _max_age(again["Cache-Control"]) <= _max_age(headers["Cache-Control"])
    etag = again["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        status, not_modified, empty = call(lookup_app, load_event("lookup_get.json"), header)
        assert status == 304, header
        assert empty == ""
        assert not_modified["ETag"] == etag
        # The freshness left only shrinks (a second may pass between two requests).
        assert not_modified["Cache-Control"].startswith("private, max-age=")
        assert _max_age(not_modified["Cache-Control"]) <= _max_age(again["Cache-Control"])
        assert "Content-Type" not in not_modified
    status, _, _ = call(lookup_app, load_event("lookup_get.json"), '"other"')
    assert status == 200


def test_problems_are_not_cacheable(table: str) -> None:
    status, headers, _ = call(lookup_app, load_event("lookup_get_bad_check_digit.json"), "*")
    assert status == 400
    assert "ETag" not in headers


def test_max_age_of_catalog_stale_and_cached_products() -> None:
    gtin = parse_gtin("6901234567892")
    assert Product(gtin, ProductFields(), "catalog", 0).max_age(1000) == CATALOG_MAX_AGE
    assert Product(gtin, ProductFields(), "cache", 0, fresh_until=1600).max_age(1000) == 600
    assert Product(gtin, ProductFields(), "cache", 0, fresh_until=900).max_age(1000) == 0
    assert (
        Product(gtin, ProductFields(), "cache", 0, stale=True, fresh_until=1600).max_age(1000) == 0
    )


def test_the_types_list_has_an_etag_and_answers_304() -> None:
    status, headers, body = call(generate_app, load_event("generate_types.json"))
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=3600"
    assert headers["ETag"] == entity_tag(body)
    status, again, empty = call(generate_app, load_event("generate_types.json"), headers["ETag"])
    assert (status, empty) == (304, "")
    assert again["ETag"] == headers["ETag"]


def test_a_generate_json_answer_has_an_etag_and_answers_304(aws: None) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket="images-test")
    event = load_event("generate_get.json")
    event["queryStringParameters"].pop("response", None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMAGES_BUCKET", "images-test")
        generate_app.service.cache_clear()
        status, headers, body = call(generate_app, event)
        assert status == 200, body
        assert headers["Cache-Control"] == "private, max-age=3600"
        assert headers["ETag"] == entity_tag(body)
        status, again, body = call(generate_app, event)  # now `cached: true`: a new tag
        assert json.loads(body)["cached"] is True
        status, not_modified, empty = call(generate_app, event, again["ETag"])
    assert (status, empty) == (304, "")
    assert not_modified["Cache-Control"] == "private, max-age=3600"


def test_an_image_answers_304_to_a_star() -> None:
    event = load_event("generate_get_image.json")
    status, headers, _ = call(generate_app, event, "*")
    assert status == 304
    assert headers["ETag"].startswith('"')


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ('"a"', True),
        ('W/"a"', True),
        ('"b", "a"', True),
        ('"b"', False),
        ("*", True),
    ],
)
def test_if_none_match_comparison(header: str | None, expected: bool) -> None:
    assert matches(header, '"a"') is expected
