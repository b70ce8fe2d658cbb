"""`python -m local.stack` in a subprocess, driven over real HTTP on loopback.

The upstreams are the fakes in fake_upstreams.py; AWS is the stack's own moto. Nothing
leaves the machine. Scenarios for functions that do not exist yet are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.fake_upstreams import (
    BOOK_ISBN,
    FOUND_CODE,
    NOT_FOUND_CODE,
    OFF_DOWN_CODE,
    OFF_FOUND_CODE,
    OFF_GARBAGE_CODE,
    OFF_OLD_NOT_FOUND_CODE,
    OFF_RATE_LIMITED_CODE,
    OFF_SLOW_CODE,
    QUOTA_CODE,
    FakeUpstreams,
    image_url,
)
from tests.e2e.stack_process import StackDidNotStart, StackProcess, local_stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-local-api-key"
TIMEOUT = 30


def needs_function(name: str) -> None:
    if not (ROOT / "functions" / name / "app.py").is_file():
        pytest.skip(f"functions/{name}/app.py does not exist yet")


@dataclass
class RunningStack:
    running: StackProcess
    upstreams: FakeUpstreams

    @property
    def base(self) -> str:
        return self.running.base

    @property
    def api(self) -> str:
        return self.running.api

    @property
    def output(self) -> list[str]:
        return self.running.output

    def get(
        self, path: str, key: str | None = API_KEY, params: dict[str, str] | None = None
    ) -> requests.Response:
        headers = {"x-api-key": key} if key else {}
        return requests.get(f"{self.api}{path}", headers=headers, params=params, timeout=TIMEOUT)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        headers = {"x-api-key": API_KEY}
        return requests.post(f"{self.api}{path}", headers=headers, json=body, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def upstreams() -> Iterator[FakeUpstreams]:
    fakes = FakeUpstreams().start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="module")
def stack(
    upstreams: FakeUpstreams, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    home = tmp_path_factory.mktemp("home")
    try:
        with local_stack(upstreams, home, API_KEY) as running:
            assert f"READY {running.base}\n" in running.output
            yield RunningStack(running, upstreams)
    except StackDidNotStart as error:
        pytest.fail(f"the local stack did not print READY:\n{error}")
    assert running.exit_code == 0, "".join(running.output[-60:])


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
    assert response.json()["code"] == "invalid_parameter"


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


def _upload(stack: RunningStack, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
    created = stack.post("/uploads", {"filename": filename, "content_type": content_type})
    assert created.status_code == 201, created.text
    ticket = created.json()
    form = ticket["upload"]
    posted = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": (filename, data, content_type)},
        timeout=TIMEOUT,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = stack.get(f"/uploads/{ticket['upload_id']}").json()
        if status["status"] in ("done", "failed"):
            return status  # type: ignore[no-any-return]
        time.sleep(0.5)
    pytest.fail(f"upload {ticket['upload_id']} did not finish: {status}")


def test_csv_upload_gets_one_result_per_row(stack: RunningStack) -> None:
    needs_function("upload_worker")
    data = f"code,note\r\n{FOUND_CODE},tea\r\n6901234567891,typo\r\n{NOT_FOUND_CODE},x\r\n".encode()
    status = _upload(stack, "codes.csv", "text/csv", data)
    assert status["status"] == "done", status
    rows = status["results"]
    assert [(r["code"], r["status"]) for r in rows] == [
        (FOUND_CODE, "found"),
        ("6901234567891", "invalid_gtin"),
        (NOT_FOUND_CODE, "not_found"),
    ]


def test_photo_upload_is_decoded_and_looked_up(stack: RunningStack) -> None:
    needs_function("upload_worker")
    import io

    from PIL import Image

    from barcode_service.render import render_image
    from barcode_service.symbologies import find_symbology

    barcode = render_image(find_symbology("ean13"), FOUND_CODE, 380, 200).convert("RGB")
    photo = Image.new("RGB", (1200, 900), (200, 190, 180))
    photo.paste(barcode, (400, 350))
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=85)
    status = _upload(stack, "shelf.jpg", "image/jpeg", out.getvalue())
    assert status["status"] == "done", status
    assert [(r["code"], r["status"]) for r in status["results"]] == [(FOUND_CODE, "found")]


def _shelf_photo(fmt: str) -> bytes:
    """A found EAN-13 and a GS1 Digital Link QR side by side, in `fmt` (JPEG, HEIF, ...)."""
    import io

    import zint
    from PIL import Image

    from tests.unit.test_decode import render

    ean = render(zint.Symbology.EANX, FOUND_CODE[:12], scale=2)
    link = f"https://id.gs1.org/01/0{NOT_FOUND_CODE}?17=271231"
    qr = render(zint.Symbology.QRCODE, link, scale=5)
    photo = Image.new("RGB", (1200, 900), (200, 190, 180))
    photo.paste(ean, (100, 350))
    photo.paste(qr, (700, 330))
    out = io.BytesIO()
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    photo.save(out, format=fmt, quality=85)
    return out.getvalue()


def test_scan_of_a_photo_body_finds_every_code(stack: RunningStack) -> None:
    needs_function("lookup")
    response = requests.post(
        f"{stack.api}/scans",
        headers={"x-api-key": API_KEY, "Content-Type": "image/jpeg"},
        data=_shelf_photo("JPEG"),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    scans = {e["kind"]: e for e in response.json()["scans"]}
    assert scans["gtin"]["status"] == "found"
    assert scans["gtin"]["product"]["name"] == "Test Product"
    assert scans["gs1_digital_link"]["gtin"] == f"0{NOT_FOUND_CODE}"
    assert scans["gs1_digital_link"]["ai"]["17"] == "271231"


def test_scan_of_text_and_a_multipart_heic(stack: RunningStack) -> None:
    needs_function("lookup")
    text = stack.post("/scans", {"text": "04252614", "format": "UPC_E"})
    assert text.status_code == 200, text.text
    assert text.json()["scans"][0]["gtin"] == "00042100005264"
    heic = requests.post(
        f"{stack.api}/scans",
        headers={"x-api-key": API_KEY},
        files={"image": ("IMG_0001.HEIC", _shelf_photo("HEIF"), "image/heic")},
        timeout=TIMEOUT,
    )
    assert heic.status_code == 200, heic.text
    assert {e["kind"] for e in heic.json()["scans"]} == {"gtin", "gs1_digital_link"}


def test_url_encoded_spaces_in_the_path(stack: RunningStack) -> None:
    needs_function("lookup")
    spaced = FOUND_CODE[:3] + "%20" + FOUND_CODE[3:7] + "%20" + FOUND_CODE[7:]
    response = stack.get(f"/products/{spaced}")
    assert response.status_code == 200, response.text
    assert response.json()["gtin"] == "0" + FOUND_CODE


def test_heic_photo_upload_lists_every_code(stack: RunningStack) -> None:
    needs_function("upload_worker")
    status = _upload(stack, "IMG_0001.HEIC", "image/heic", _shelf_photo("HEIF"))
    assert status["status"] == "done", status
    rows = sorted((r["code"], r["status"]) for r in status["results"])
    assert rows == [(f"0{NOT_FOUND_CODE}", "not_found"), (FOUND_CODE, "found")]


def test_router_free_source_first_then_cache(stack: RunningStack) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls.copy()
    first = stack.get(f"/products/{OFF_FOUND_CODE}")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["provider"], body["source"], body["name"]) == (
        "openfoodfacts",
        "upstream",
        "Nutella",
    )
    assert "ODbL" in body["attribution"]
    assert body["details"]["allergens"] == ["milk", "nuts", "soybeans"]
    again = stack.get(f"/products/{OFF_FOUND_CODE}").json()
    assert (again["provider"], again["source"]) == ("openfoodfacts", "cache")
    assert stack.upstreams.calls["openfoodfacts"] == before["openfoodfacts"] + 1
    assert stack.upstreams.calls["lookup"] == before["lookup"]  # the paid one never asked


def test_router_books_go_to_open_library(stack: RunningStack) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls.copy()
    book = stack.get(f"/products/{BOOK_ISBN}")
    assert book.status_code == 200, book.text
    assert (book.json()["provider"], book.json()["details"]["authors"]) == (
        "openlibrary",
        ["Roald Dahl"],
    )
    assert stack.upstreams.calls["openfoodfacts"] == before["openfoodfacts"]
    assert stack.upstreams.calls["openlibrary"] == before["openlibrary"] + 1


def test_router_not_found_needs_every_provider(stack: RunningStack) -> None:
    needs_function("lookup")
    missing = stack.get(f"/products/{OFF_OLD_NOT_FOUND_CODE}")  # 200 with status 0
    assert missing.status_code == 404, missing.text
    assert [p["outcome"] for p in missing.json()["providers"]] == [
        "not_found",
        "not_served",
        "not_found",
    ]
    before = stack.upstreams.calls.copy()
    assert stack.get(f"/products/{OFF_OLD_NOT_FOUND_CODE}").json()["source"] == "cache"
    assert stack.upstreams.calls == before


@pytest.mark.parametrize(
    ("code", "status", "problem_code", "outcome"),
    [
        (OFF_RATE_LIMITED_CODE, 429, "rate_limited", "rate_limited"),
        (OFF_DOWN_CODE, 503, "upstream_unavailable", "outage"),
        (OFF_SLOW_CODE, 503, "upstream_timeout", "outage"),
        (OFF_GARBAGE_CODE, 502, "upstream_error", "outage"),
    ],
)
def test_router_provider_that_cannot_answer_is_named(
    stack: RunningStack, code: str, status: int, problem_code: str, outcome: str
) -> None:
    needs_function("lookup")
    answer = stack.get(f"/products/{code}")
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert (problem["code"], problem["provider"]) == (problem_code, "openfoodfacts")
    assert problem["providers"][0] == {"name": "openfoodfacts", "outcome": outcome}
    assert problem["providers"][2] == {"name": "baichuan", "outcome": "not_found"}
    assert int(answer.headers["Retry-After"]) > 0
    time.sleep(1.2)  # past the provider's pause, so the next scenario meets it fresh


def test_quota_exhausted_is_503_then_no_more_upstream_calls(stack: RunningStack) -> None:
    # Last: the quota block stays for the rest of this stack's (local) day.
    needs_function("lookup")
    first = stack.get(f"/products/{QUOTA_CODE}")
    assert first.status_code == 503
    assert first.json()["code"] == "upstream_quota_exhausted"
    assert int(first.headers["Retry-After"]) > 0
    before = stack.upstreams.calls["lookup"]
    second = stack.get("/products/4006381333931")
    assert second.status_code == 503
    assert stack.upstreams.calls["lookup"] == before
    cached = stack.get(f"/products/{FOUND_CODE}")
    assert cached.status_code == 200
    assert cached.json()["source"] == "cache"
