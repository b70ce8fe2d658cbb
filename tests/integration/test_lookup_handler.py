"""The lookup Lambda handler driven with the API Gateway events in events/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from functions.lookup import app
from local.context import LambdaContext
from tests.conftest import load_event, response_headers
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_failure,
    baichuan_found,
    baichuan_not_found,
)


@pytest.fixture(autouse=True)
def _fresh_service() -> Iterator[None]:
    app.service.cache_clear()
    yield
    app.service.cache_clear()


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), json.loads(response["body"])


def test_health_needs_nothing() -> None:
    status, _, body = invoke(load_event("api_health.json"))
    assert status == 200
    assert body == {"status": "ok"}


def test_openapi_document_is_served() -> None:
    status, _, body = invoke(load_event("api_openapi.json"))
    assert status == 200
    assert body["openapi"].startswith("3.")
    assert "/products/{code}" in body["paths"]


def test_get_product_found(table: str, secret: dict, upstream: responses.RequestsMock) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found("6901234567892", "Jasmine Tea"))
    status, headers, body = invoke(load_event("lookup_get.json"))
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body["name"] == "Jasmine Tea"
    assert body["source"] == "upstream"
    status, _, body = invoke(load_event("lookup_get_dashes.json"))
    assert status == 200
    assert body["source"] == "cache"
    assert len(upstream.calls) == 1


def test_get_product_not_found_is_problem(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_not_found())
    status, headers, body = invoke(load_event("lookup_get.json"))
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "not_found"
    assert body["gs1_prefix"] == {"prefix": "690", "issuer": "GS1 China"}
    assert set(body) >= {"type", "title", "status", "detail", "code"}


def test_bad_check_digit_is_400_without_upstream(upstream: responses.RequestsMock) -> None:
    status, headers, body = invoke(load_event("lookup_get_bad_check_digit.json"))
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "invalid_gtin"
    assert "expected 2" in body["detail"]
    assert len(upstream.calls) == 0


def test_restricted_is_404_explained(upstream: responses.RequestsMock) -> None:
    status, _, body = invoke(load_event("lookup_get_restricted.json"))
    assert status == 404
    assert "restricted circulation" in body["detail"]
    assert len(upstream.calls) == 0


def test_quota_exhausted_is_503_with_retry_after(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_failure("今日查询次数已用完"))
    status, headers, body = invoke(load_event("lookup_get.json"))
    assert status == 503
    assert body["code"] == "upstream_quota_exhausted"
    assert int(headers["Retry-After"]) > 0
    assert "reset_at" in body


def test_batch(table: str, secret: dict, upstream: responses.RequestsMock) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        found = "code_sn=6901234567892" in request.body
        body = baichuan_found("6901234567892") if found else baichuan_not_found("德国")
        return 200, {}, json.dumps(body)

    upstream.add_callback(responses.POST, BAICHUAN_URL, callback=answer)
    status, _, body = invoke(load_event("lookup_batch.json"))
    assert status == 200
    statuses = [(r["code"], r["status"]) for r in body["results"]]
    assert statuses[0] == ("6901234567892", "found")
    assert statuses[1] == ("6901234567892", "found")
    assert statuses[2] == ("4006381333931", "not_found")
    assert body["results"][2]["error"]["country"] == "德国"
    assert statuses[3] == ("6901234567891", "invalid_gtin")
    assert statuses[4] == ("abc", "invalid_gtin")
    assert len(upstream.calls) == 2


def test_batch_body_must_be_json() -> None:
    status, _, body = invoke(load_event("lookup_batch_not_json.json"))
    assert status == 415  # a form-urlencoded body is another media type
    assert body["code"] == "unsupported_media_type"


def test_unknown_route_is_problem() -> None:
    event = load_event("api_health.json")
    event["path"] = "/nope"
    status, _, body = invoke(event)
    assert status == 404
    assert body["code"] == "not_found"


def test_unexpected_error_is_500_problem_without_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: object, code: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("barcode_service.lookup.LookupService.lookup", boom)
    status, headers, body = invoke(load_event("lookup_get.json"))
    assert status == 500
    assert headers["Content-Type"] == "application/problem+json"
    assert "secret internals" not in json.dumps(body)
    assert "Traceback" not in json.dumps(body)


def _get(path_code: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    event = load_event("lookup_get.json")
    event["path"] = f"/products/{path_code}"
    event["pathParameters"] = {"code": path_code}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in (query or {}).items()} or None
    return event


def test_url_encoded_spaces_in_the_path_are_tolerated(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found("6901234567892", "Jasmine Tea"))
    status, _, body = invoke(load_event("lookup_get_encoded_spaces.json"))
    assert status == 200
    assert body["gtin"] == "06901234567892"
    assert "code_sn=6901234567892" in str(upstream.calls[0].request.body)


def test_phone_upc_e_is_looked_up_as_its_upc_a(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found("0042100005264", "Gum"))
    status, _, body = invoke(_get("04252614"))
    assert status == 200
    assert (body["gtin"], body["code"]) == ("00042100005264", "042100005264")
    assert body["format"] == "UPC-A"
    assert "code_sn=0042100005264" in str(upstream.calls[0].request.body)


def test_format_query_settles_an_ambiguous_eight_digit_code(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_not_found())
    status, _, body = invoke(_get("12345670", {"format": "upc_e"}))
    assert status == 404
    assert body["gtin"] == "00123456000070"
    status, _, body = invoke(_get("12345670"))
    assert body["gtin"] == "00000012345670"


def test_element_strings_and_digital_links_look_up_their_gtin(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found("9506000134352", "Serum"))
    event = load_event("lookup_batch.json")
    event["body"] = json.dumps(
        {
            "codes": [
                "(01)09506000134352(17)271231(10)AB1",
                "https://example.com/01/09506000134352?17=271231",
                "0-306-40615-3",
                "https://example.com/menu",
            ]
        }
    )
    status, _, body = invoke(event)
    assert status == 200
    rows = body["results"]
    assert [r["status"] for r in rows] == ["found", "found", "invalid_gtin", "invalid_gtin"]
    assert rows[0]["product"]["gtin"] == "09506000134352"
    assert "ISBN-10" in rows[2]["error"]["detail"]
    assert "not a GS1 Digital Link" in rows[3]["error"]["detail"]
    assert len(upstream.calls) == 1


def test_variable_measure_is_explained_without_a_provider_call(
    monkeypatch: pytest.MonkeyPatch, upstream: responses.RequestsMock
) -> None:
    monkeypatch.setenv("GS1_RCN_REGION", "se")
    status, _, body = invoke(_get("2312345001504"))
    assert status == 404
    assert "a weight of 0.15 kg" in body["detail"]
    assert body["variable_measure"]["weight_kg"] == "0.15"
    assert len(upstream.calls) == 0
