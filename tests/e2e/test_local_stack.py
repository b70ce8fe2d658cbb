"""`python -m local.stack` over real HTTP: health, keys, unknown routes, lookups, generate.

Scenarios for functions that do not exist yet are skipped."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.fake_upstreams import (
    FOUND_CODE,
    NOT_FOUND_CODE,
    image_url,
)
from tests.e2e.running import API_KEY, TIMEOUT, RunningStack, needs_function

pytestmark = pytest.mark.e2e


def test_banner_shows_the_key_and_curl_commands(stack: RunningStack) -> None:
    text = "".join(stack.output)
    assert API_KEY in text
    assert f"curl -H 'x-api-key: {API_KEY}' '{stack.api}/barcodes?type=ean13" in text
    assert f"'{stack.api}/products/6901234567892'" in text
    assert f"'{stack.api}/uploads'" in text


def test_health_needs_no_key(stack: RunningStack) -> None:
    response = stack.get("/health", key=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_other_routes_need_the_key(stack: RunningStack) -> None:
    for key in (None, "not-the-key"):
        response = stack.get(f"/products/{FOUND_CODE}", key=key)
        assert response.status_code == 403


def test_unknown_routes_answer_like_api_gateway(stack: RunningStack) -> None:
    # The template turns API Gateway's MISSING_AUTHENTICATION_TOKEN into a problem+json 404.
    response = stack.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_lookup_reaches_the_upstream_once_then_the_cache(stack: RunningStack) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls["lookup"]
    first = stack.get(f"/products/{FOUND_CODE}")
    assert first.status_code == 200, first.text
    assert first.json()["name"] == "Test Product"
    assert first.json()["source"] == "upstream"
    assert stack.upstreams.calls["lookup"] == before + 1
    second = stack.get(f"/products/{FOUND_CODE}")
    assert second.status_code == 200, second.text
    assert second.json()["source"] == "cache"
    assert stack.upstreams.calls["lookup"] == before + 1


def test_generate_uses_the_upstream_image(stack: RunningStack) -> None:
    needs_function("generate")
    params = {"type": "ean13", "content": FOUND_CODE, "width": "300", "height": "150"}
    response = stack.get("/barcodes", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["backend"] == "upstream"
    assert body["url"] == image_url(FOUND_CODE)
    assert stack.upstreams.calls["generate"] >= 1


def test_generate_renders_locally_what_the_upstream_lacks(stack: RunningStack) -> None:
    needs_function("generate")
    params = {
        "type": "qrcode",
        "content": "https://example.com/p/1",
        "width": "240",
        "height": "240",
    }
    response = stack.get("/barcodes", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["backend"] == "local"
    assert body["cached"] is False
    image = requests.get(body["url"], timeout=TIMEOUT)  # the URL opens, like in a browser
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")
    width, height = int.from_bytes(image.content[16:20]), int.from_bytes(image.content[20:24])
    assert (width, height) == (240, 240)
    again = stack.get("/barcodes", params=params).json()
    assert again["cached"] is True
    assert again["url"] == body["url"]


def test_generate_bad_input_is_problem(stack: RunningStack) -> None:
    needs_function("generate")
    params = {"type": "ean13", "content": "6901234567891", "width": "300", "height": "150"}
    response = stack.get("/barcodes", params=params)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_gtin"  # a wrong check digit, as in lookups


def _image_get(
    stack: RunningStack, params: dict[str, str], headers: dict[str, str]
) -> requests.Response:
    return requests.get(
        f"{stack.api}/barcodes",
        params=params,
        headers={"x-api-key": API_KEY, **headers},
        timeout=TIMEOUT,
        allow_redirects=False,
    )


def test_image_bytes_through_the_gateway_like_api_gateway(stack: RunningStack) -> None:
    needs_function("generate")
    params = {
        "type": "code128",
        "content": "LABEL-0042",
        "unit": "mm",
        "width": "40",
        "height": "20",
        "show_text": "true",
        "response": "image",
    }
    # An image type first in Accept: API Gateway sends the bytes (BinaryMediaTypes image/*).
    response = _image_get(stack, params, {"Accept": "image/png"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    png = response.content
    assert png.startswith(b"\x89PNG")
    assert (int.from_bytes(png[16:20]), int.from_bytes(png[20:24])) == (472, 236)
    assert b"pHYs" in png  # 300 dpi recorded: 11811 px per metre
    assert (11811).to_bytes(4, "big") * 2 in png
    not_modified = _image_get(
        stack, params, {"Accept": "image/png", "If-None-Match": response.headers["ETag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    # Accept */* would get base64 text from API Gateway: the function redirects instead.
    redirected = _image_get(stack, params, {"Accept": "*/*"})
    assert redirected.status_code == 302
    followed = requests.get(redirected.headers["Location"], timeout=TIMEOUT)
    assert followed.content == png


def test_redirect_and_batch(stack: RunningStack) -> None:
    needs_function("generate")
    params = {
        "type": "gs1_digital_link",
        "content": "(01)09501101530003(10)AB1(17)271231",
        "width": "300",
        "height": "300",
        "response": "redirect",
    }
    response = _image_get(stack, params, {})
    assert response.status_code == 302
    assert requests.get(response.headers["Location"], timeout=TIMEOUT).content[:4] == b"\x89PNG"
    batch = stack.post(
        "/barcodes/batch",
        {
            "requests": [
                {"type": "qrcode", "content": "one", "width": 200, "height": 200},
                {"type": "qrcode", "content": "one", "width": 200, "height": 200},
                {"type": "ean13", "content": "1", "width": 200, "height": 200},
            ]
        },
    )
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [200, 200, 400]
    assert results[0]["url"] == results[1]["url"]
    assert results[0]["verified"] is True


def test_keyless_image_path_for_img_src(stack: RunningStack) -> None:
    needs_function("image")
    url = f"{stack.base}/img/ean13.png"
    params = {
        "content": FOUND_CODE,
        "width": "300",
        "height": "150",
        "fg": "1A237E",
        "bg": "transparent",
    }
    calls_before = stack.upstreams.calls["generate"]
    response = requests.get(url, params=params, timeout=TIMEOUT)  # no key, like <img src>
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Barcode-Verified"] == "true"
    assert response.content.startswith(b"\x89PNG")
    assert b"tRNS" in response.content  # transparent background
    assert stack.upstreams.calls["generate"] == calls_before  # never the upstream
    svg = requests.get(
        f"{stack.base}/img/qrcode.svg",
        params={"content": "hi", "width": "128", "height": "128"},
        timeout=TIMEOUT,
    )
    assert svg.headers["Content-Type"] == "image/svg+xml"
    assert svg.text.startswith("<?xml")
    refused = requests.get(url, params={**params, "width": "3000"}, timeout=TIMEOUT)
    assert refused.status_code == 400
    assert refused.json()["invalid_params"][0]["name"] == "width"
    assert refused.headers["Cache-Control"].startswith("public, max-age=")


def test_lookup_not_found_and_invalid(stack: RunningStack) -> None:
    needs_function("lookup")
    missing = stack.get(f"/products/{NOT_FOUND_CODE}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert missing.json()["gs1_prefix"]["prefix"] == "690"
    invalid = stack.get("/products/6901234567891")
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "invalid_gtin"


def test_lookup_batch(stack: RunningStack) -> None:
    needs_function("lookup")
    response = stack.post(
        "/products/lookup", {"codes": [FOUND_CODE, "abc", NOT_FOUND_CODE, FOUND_CODE]}
    )
    assert response.status_code == 200, response.text
    rows = response.json()["results"]
    assert [r["status"] for r in rows] == ["found", "invalid_gtin", "not_found", "found"]
