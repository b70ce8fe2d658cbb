"""response=image|redirect|json, ETag/304, options on every backend path, and
POST /barcodes/batch, through the generate handler with the events in events/."""

from __future__ import annotations

import base64
import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import responses
import zxingcpp
from PIL import Image

from barcode_service.png import render_png
from barcode_service.symbologies import find_symbology
from functions.generate import app
from local.context import LambdaContext
from tests.conftest import load_event, response_headers
from tests.support.upstreams import GUGUDATA_URL, gugudata_success

BUCKET = "test-images"
CDN_URL = "https://cdn.example.com/b/6901234567892.png"
EAN = {"type": "ean13", "content": "6901234567892", "width": "300", "height": "150"}


@pytest.fixture(autouse=True)
def _fresh_service(monkeypatch: pytest.MonkeyPatch, table: str) -> Iterator[None]:
    monkeypatch.setenv("IMAGES_BUCKET", BUCKET)
    monkeypatch.setenv("IMAGES_BASE_URL", "https://images.example.com")
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    app.service.cache_clear()
    app.labels.cache_clear()  # built on the service: a previous test's would outlive its moto
    yield
    app.service.cache_clear()
    app.labels.cache_clear()


@pytest.fixture
def upstream(secret: dict[str, Any]) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(GUGUDATA_URL, json=gugudata_success("EAN13:6901234567892", CDN_URL))
        yield mock


def get_event(query: dict[str, str], headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event("generate_get.json"))
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), response


def image_of(response: dict[str, Any]) -> Image.Image:
    assert response["isBase64Encoded"] is True
    return Image.open(io.BytesIO(base64.b64decode(response["body"])))


# --- response=image -----------------------------------------------------------------------


def test_image_bytes_with_immutable_cache_and_strong_etag_then_304() -> None:
    event = get_event({**EAN, "response": "image"}, {"Accept": "image/png"})
    status, headers, response = call(event)
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = headers["ETag"]
    assert etag.startswith('"')  # strong: no W/ prefix
    assert len(etag) == 66
    image = image_of(response)
    assert image.size == (300, 150)
    read = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.EAN13)
    assert read[0].text == "6901234567892"

    status, headers, response = call(
        get_event({**EAN, "response": "image"}, {"Accept": "image/png", "If-None-Match": etag})
    )
    assert status == 304
    assert headers["ETag"] == etag
    assert not response["body"]
    # A different request has a different ETag: no 304 for it.
    status, headers, _ = call(
        get_event(
            {**EAN, "width": "301", "response": "image"},
            {"Accept": "image/png", "If-None-Match": etag},
        )
    )
    assert status == 200
    assert headers["ETag"] != etag


def test_accept_image_png_first_means_response_image() -> None:
    status, headers, response = call(get_event(EAN, {"Accept": "image/png,*/*;q=0.8"}))
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert image_of(response).size == (300, 150)


def test_accept_svg_first_means_an_svg_image_as_text() -> None:
    status, headers, response = call(get_event(EAN, {"Accept": "image/svg+xml"}))
    assert status == 200
    assert headers["Content-Type"] == "image/svg+xml"
    assert response["isBase64Encoded"] is False
    assert response["body"].startswith("<?xml")


def test_image_for_a_client_api_gateway_would_send_base64_text_is_a_redirect() -> None:
    status, headers, response = call(get_event({**EAN, "response": "image"}, {"Accept": "*/*"}))
    assert status == 302
    assert headers["Location"].startswith("https://images.example.com/barcodes/")
    assert not response["body"]


def test_image_is_served_from_storage_the_second_time(monkeypatch: pytest.MonkeyPatch) -> None:
    event = get_event({**EAN, "response": "image", "fg": "1A237E"}, {"Accept": "image/png"})
    _, _, first = call(event)
    rendered = []
    monkeypatch.setattr(app.service().images, "put", lambda *a, **k: rendered.append(a))
    _, _, second = call(event)
    assert second["body"] == first["body"]
    assert rendered == []


def test_redirect_goes_to_the_local_image_even_when_the_upstream_has_the_type(
    monkeypatch: pytest.MonkeyPatch, upstream: responses.RequestsMock
) -> None:
    monkeypatch.setenv("GENERATE_BACKEND", "auto")
    status, headers, _ = call(get_event({**EAN, "response": "redirect"}))
    assert status == 302
    assert headers["Location"].startswith("https://images.example.com/barcodes/")
    assert headers["Cache-Control"].startswith("public")
    assert len(upstream.calls) == 0  # image bytes and redirects render locally
    # ...while json keeps the upstream's URL answer (for a request not rendered here yet;
    # a local render already made is served from the cache in auto mode, costing nothing).
    status, _, response = call(get_event({**EAN, "width": "310"}))
    assert json.loads(response["body"])["url"] == CDN_URL
    status, _, response = call(get_event(EAN))
    assert json.loads(response["body"])["backend"] == "local"
    assert len(upstream.calls) == 1


def test_operator_can_have_image_answers_follow_the_upstream(
    monkeypatch: pytest.MonkeyPatch, upstream: responses.RequestsMock
) -> None:
    monkeypatch.setenv("GENERATE_BACKEND", "upstream")
    monkeypatch.setenv("GENERATE_IMAGE_BACKEND", "configured")
    # response=image is image bytes: the upstream's, fetched and read back.
    drawn = render_png(find_symbology("ean13"), "6901234567892", 400, 200)
    upstream.get(CDN_URL, body=drawn, content_type="image/png")
    status, headers, response = call(
        get_event({**EAN, "response": "image"}, {"Accept": "image/png"})
    )
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert base64.b64decode(response["body"]) == drawn
    status, headers, _ = call(get_event({**EAN, "response": "redirect"}))
    assert headers["Location"] == CDN_URL


# --- options on every backend path ----------------------------------------------------------


@pytest.mark.parametrize("backend", ["auto", "local", "upstream"])
@pytest.mark.parametrize(
    "option",
    [
        {"fg": "1A237E"},
        {"bg": "transparent"},
        {"rotate": "180"},
        {"quiet_zone": "false"},
        {"dpi": "300"},
        {"unit": "mm", "width": "40", "height": "20"},
    ],
)
def test_options_on_each_backend(
    monkeypatch: pytest.MonkeyPatch,
    upstream: responses.RequestsMock,
    backend: str,
    option: dict[str, str],
) -> None:
    monkeypatch.setenv("GENERATE_BACKEND", backend)
    status, _, response = call(get_event({**EAN, "content": "6901234567892", **option}))
    body = json.loads(response["body"])
    # The upstream draws none of these (a size in mm carries a DPI it cannot record).
    if backend == "upstream":
        assert status == 400
        assert body["code"] == "unsupported_type"
        assert "only rendered locally" in body["detail"]
        assert len(upstream.calls) == 0
        return
    assert status == 200, body
    assert body["backend"] == "local"
    assert body["verified"] is True
    assert body["module_px"] >= 2
    assert len(upstream.calls) == 0


def test_invalid_options_are_problems_with_invalid_params() -> None:
    status, headers, response = call(get_event({**EAN, "fg": "red", "rotate": "45"}))
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response["body"])
    assert problem["code"] == "invalid_parameter"
    assert {p["name"] for p in problem["invalid_params"]} == {"fg", "rotate"}


def test_unscannable_render_is_a_422_and_nothing_is_stored() -> None:
    status, _, response = call(
        get_event({"type": "micropdf417", "content": "MicroPDF417", "width": "40", "height": "36"})
    )
    problem = json.loads(response["body"])
    assert status == 422, problem
    assert problem["code"] == "unscannable"
    assert "80 x 72 px" in problem["detail"]
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET)
    assert listed.get("KeyCount", 0) == 0


def test_gs1_digital_link_answer() -> None:
    status, _, response = call(
        get_event(
            {
                "type": "gs1_digital_link",
                "content": "(01)09501101530003(10)AB1(17)271231",
                "width": "300",
                "height": "300",
                "response": "image",
            },
            {"Accept": "image/png"},
        )
    )
    assert status == 200
    read = zxingcpp.read_barcodes(image_of(response).convert("L"))
    assert read[0].text == "https://id.gs1.org/01/09501101530003/10/AB1?17=271231"


# --- batch ---------------------------------------------------------------------------------


def test_batch_answers_each_request_in_order_and_renders_duplicates_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GENERATE_BACKEND", "local")
    puts: list[str] = []
    original = app.service().images.put
    monkeypatch.setattr(
        app.service().images, "put", lambda key, *a, **k: (puts.append(key), original(key, *a, **k))
    )
    status, _, response = call(load_event("generate_batch.json"))
    assert status == 200, response["body"]
    results = json.loads(response["body"])["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [200, 200, 200, 400, 200]
    assert results[0]["url"] == results[4]["url"]
    assert results[1]["type"] == "gs1_digital_link"
    assert (results[2]["width"], results[2]["height"]) == (472, 236)
    assert results[3]["problem"]["code"] == "invalid_gtin"
    assert "check digit" in results[3]["problem"]["detail"]
    assert len(puts) == 3  # the repeated request was made once


@pytest.mark.parametrize(
    "body",
    ['{"requests": []}', '{"requests": {}}', "[]", "nope"],
)
def test_batch_body_errors(body: str) -> None:
    event = copy.deepcopy(load_event("generate_batch.json"))
    event["body"] = body
    status, _, response = call(event)
    assert status == 400
    assert json.loads(response["body"])["code"] == "invalid_parameter"


def test_a_batch_of_101_is_413_like_a_lookup_of_101_codes() -> None:
    # Before (issue 22): a 400 invalid_parameter, where /products/lookup answers 413.
    event = copy.deepcopy(load_event("generate_batch.json"))
    event["body"] = json.dumps({"requests": [{}] * 101})
    status, _, response = call(event)
    problem = json.loads(response["body"])
    assert (status, problem["code"]) == (413, "payload_too_large")
    assert problem["invalid_params"][0]["name"] == "requests"
    assert "at most 100" in problem["detail"]


def test_batch_items_that_are_not_objects_get_their_own_problem() -> None:
    event = copy.deepcopy(load_event("generate_batch.json"))
    event["body"] = json.dumps({"requests": ["ean13", {**EAN}]})
    status, _, response = call(event)
    results = json.loads(response["body"])["results"]
    assert status == 200
    assert results[0]["status"] == 400
    assert results[1]["status"] == 200
