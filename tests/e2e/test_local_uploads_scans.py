"""`python -m local.stack` over real HTTP: uploads through the local S3 and worker, scans."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.fake_upstreams import (
    FOUND_CODE,
    NOT_FOUND_CODE,
)
from tests.e2e.running import API_KEY, TIMEOUT, RunningStack, needs_function

pytestmark = pytest.mark.e2e


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
