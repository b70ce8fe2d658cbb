"""POST /v1/scans through the lookup handler: scanner text, photos made from our renders."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
import zint
from PIL import Image, ImageFilter

from functions.lookup import app
from local.context import LambdaContext
from tests.conftest import load_event
from tests.integration.test_lookup_handler import _fresh_service  # noqa: F401 - autouse
from tests.support.upstreams import BAICHUAN_URL, baichuan_found, baichuan_not_found
from tests.unit.test_decode import as_bytes, photo, render


@pytest.fixture
def upstream(table: str, secret: dict) -> Iterator[responses.RequestsMock]:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        found = "code_sn=6901234567892" in request.body
        body = baichuan_found("6901234567892", "Jasmine Tea") if found else baichuan_not_found()
        return 200, {}, json.dumps(body)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BAICHUAN_URL, callback=answer)
        yield mock


def invoke(event: dict[str, Any]) -> tuple[int, Any]:
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def with_body(content_type: str, body: bytes | str, *, b64: bool) -> dict[str, Any]:
    event = copy.deepcopy(load_event("scans_text.json"))
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    raw = body.encode() if isinstance(body, str) else body
    event["body"] = base64.b64encode(raw).decode() if b64 else raw.decode()
    event["isBase64Encoded"] = b64
    return event


def scan_text(text: str, fmt: str | None = None) -> tuple[int, Any]:
    payload: dict[str, Any] = {"text": text}
    if fmt is not None:
        payload["format"] = fmt
    return invoke(with_body("application/json", json.dumps(payload), b64=False))


def scan_image(data: bytes, content_type: str = "image/png") -> tuple[int, Any]:
    return invoke(with_body(content_type, data, b64=True))


def test_text_event_resolves_a_gs1_datamatrix_scan(upstream: responses.RequestsMock) -> None:
    status, body = invoke(load_event("scans_text.json"))
    assert status == 200
    [entry] = body["scans"]
    assert entry["kind"] == "gs1_element_string"
    assert entry["gtin"] == "09506000134352"
    assert entry["ai"] == {"01": "09506000134352", "17": "271231", "10": "AB1"}
    assert entry["status"] == "not_found"
    assert entry["format"] == "DATA_MATRIX"


def test_image_event_finds_every_code(upstream: responses.RequestsMock) -> None:
    status, body = invoke(load_event("scans_image.json"))
    assert status == 200
    found = {e["kind"]: e for e in body["scans"]}
    assert set(found) == {"gtin", "gs1_digital_link"}
    assert found["gtin"]["status"] == "found"
    assert found["gtin"]["product"]["name"] == "Jasmine Tea"
    assert found["gs1_digital_link"]["ai"] == {"01": "09506000134352", "17": "271231"}
    assert all(set(e["position"]) == {"x", "y", "width", "height"} for e in body["scans"])


@pytest.mark.parametrize(
    ("text", "fmt", "kind", "status", "gtin"),
    [
        ("04252614", "UPC_E", "upc_e", "not_found", "00042100005264"),
        ("04252614", None, "upc_e", "not_found", "00042100005264"),
        ("0-306-40615-2", None, "isbn10", "not_found", "09780306406157"),
        ("6901234567892", "EAN_13", "gtin", "found", "06901234567892"),
        (
            "https://id.gs1.org/01/09506000134352?17=271231",
            "QR_CODE",
            "gs1_digital_link",
            "not_found",
            "09506000134352",
        ),
        ("2012345678903", None, "restricted", "restricted", "02012345678903"),
        ("https://example.com/menu", "QR_CODE", "other", "no_gtin", None),
        ("hello", None, "other", "no_gtin", None),
        ("6901234567891", None, "gtin", "invalid_gtin", None),
        ("(01)09506000134351", None, "gs1_element_string", "invalid_gtin", None),
    ],
)
def test_every_text_kind_answers_with_its_status(  # noqa: PLR0917 - parametrised
    upstream: responses.RequestsMock,
    text: str,
    fmt: str | None,
    kind: str,
    status: str,
    gtin: str | None,
) -> None:
    code, body = scan_text(text, fmt)
    assert code == 200
    [entry] = body["scans"]
    assert (entry["kind"], entry["status"], entry.get("gtin")) == (kind, status, gtin)
    assert entry["text"] == text
    if status not in ("found",):
        assert entry["error"]["detail"]


def test_restricted_and_no_gtin_never_reach_a_provider(upstream: responses.RequestsMock) -> None:
    scan_text("2012345678903")
    scan_text("https://example.com/menu")
    scan_text("(00)106141411234567896")
    assert len(upstream.calls) == 0


def test_variable_measure_carries_its_weight(
    monkeypatch: pytest.MonkeyPatch, upstream: responses.RequestsMock
) -> None:
    monkeypatch.setenv("GS1_RCN_REGION", "se")
    _, body = scan_text("2312345001504", "EAN_13")
    [entry] = body["scans"]
    assert entry["status"] == "restricted"
    assert entry["error"]["variable_measure"]["weight_kg"] == "0.15"
    assert "a weight of 0.15 kg" in entry["error"]["detail"]


def test_a_scan_uses_the_cache_like_any_lookup(upstream: responses.RequestsMock) -> None:
    scan_text("6901234567892")
    _, body = scan_text("690-1234-56789-2")
    assert body["scans"][0]["product"]["source"] == "cache"
    assert len(upstream.calls) == 1


def _photo_with(*symbols: Image.Image, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    scene = Image.new("RGB", size, (190, 186, 176))
    x = 40
    for symbol in symbols:
        scene.paste(symbol, (x, 80))
        x += symbol.width + 60
    return scene


def test_several_codes_in_one_photo_are_all_found(upstream: responses.RequestsMock) -> None:
    scene = _photo_with(
        render(zint.Symbology.EANX, "690123456789", scale=3),
        render(zint.Symbology.QRCODE, "https://id.gs1.org/01/09506000134352", scale=5),
        render(zint.Symbology.DATAMATRIX, "[01]04006381333931[10]LOT7", scale=5, gs1=True),
    )
    status, body = scan_image(as_bytes(scene, "JPEG", quality=85), "image/jpeg")
    assert status == 200
    gtins = sorted(e["gtin"] for e in body["scans"])
    assert gtins == ["04006381333931", "06901234567892", "09506000134352"]
    assert {e["kind"] for e in body["scans"]} == {"gtin", "gs1_digital_link", "gs1_element_string"}


def test_itf14_and_pdf417_are_read(upstream: responses.RequestsMock) -> None:
    scene = _photo_with(
        render(zint.Symbology.ITF14, "1061414100041", scale=3),
        render(zint.Symbology.PDF417, "6901234567892", scale=3),
    )
    _, body = scan_image(as_bytes(scene))
    formats = {e["format"]: e for e in body["scans"]}
    assert formats["ITF"]["gtin"] == "10614141000415"
    assert formats["PDF417"]["gtin"] == "06901234567892"


def test_a_rotated_photo_is_read(upstream: responses.RequestsMock) -> None:
    scene = photo(render(zint.Symbology.EANX, "690123456789", scale=3), size=(1400, 1000), angle=30)
    _, body = scan_image(as_bytes(scene, "WEBP", quality=85), "image/webp")
    assert [e["gtin"] for e in body["scans"]] == ["06901234567892"]


def test_a_small_code_in_a_12_mp_frame_is_found_at_full_resolution(
    upstream: responses.RequestsMock,
) -> None:
    frame = Image.new("L", (4032, 3024), 205)
    frame.paste(render(zint.Symbology.EANX, "690123456789", scale=1).convert("L"), (2900, 2100))
    status, body = scan_image(as_bytes(frame, "JPEG", quality=90), "image/jpg")
    assert status == 200
    [entry] = body["scans"]
    assert entry["gtin"] == "06901234567892"
    position = entry["position"]
    assert 2850 < position["x"] < 3000
    assert 2050 < position["y"] < 2250


def test_heic_photo_is_read(upstream: responses.RequestsMock) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    scene = _photo_with(render(zint.Symbology.EANX, "690123456789", scale=3), size=(900, 600))
    status, body = scan_image(as_bytes(scene, "HEIF", quality=90), "image/heic")
    assert status == 200
    assert [e["gtin"] for e in body["scans"]] == ["06901234567892"]


def test_multipart_field_image(upstream: responses.RequestsMock) -> None:
    image = as_bytes(render(zint.Symbology.EANX, "690123456789", scale=3))
    boundary = "scanboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, answer = invoke(with_body(f"multipart/form-data; boundary={boundary}", body, b64=True))
    assert status == 200
    assert [e["gtin"] for e in answer["scans"]] == ["06901234567892"]


@pytest.mark.parametrize(
    ("scene", "advice"),
    [
        (Image.new("RGB", (300, 200), (200, 200, 200)), "small"),
        (Image.new("RGB", (1200, 900), (12, 12, 12)), "too dark"),
        (
            photo(render(zint.Symbology.EANX, "690123456789", scale=2), size=(1200, 900)).filter(
                ImageFilter.GaussianBlur(9)
            ),
            "blurred",
        ),
    ],
)
def test_nothing_found_says_how_to_retake_the_photo(
    upstream: responses.RequestsMock, scene: Image.Image, advice: str
) -> None:
    status, body = scan_image(as_bytes(scene, "JPEG"), "image/jpeg")
    assert status == 200
    assert body["scans"] == []
    assert advice in body["message"]


@pytest.mark.parametrize(
    ("content_type", "body", "b64", "status", "code"),
    [
        ("application/json", "{}", False, 400, "invalid_parameter"),
        ("application/json", '{"text": 12}', False, 400, "invalid_parameter"),
        ("application/json", '{"text": "1", "format": 3}', False, 400, "invalid_parameter"),
        ("application/json", "[1]", False, 400, "invalid_parameter"),
        ("application/json", "not json", False, 400, "invalid_parameter"),
        ("application/json", "%%%", True, 400, "invalid_parameter"),
        ("text/plain", "6901234567892", False, 415, "unsupported_media_type"),
        ("image/png", "not an image", True, 422, "unreadable_upload"),
        ("image/png", "", True, 422, "empty_upload"),
        ("image/png", "x" * (4 * 1024 * 1024 + 1), True, 413, "payload_too_large"),
        (
            "multipart/form-data; boundary=b",
            "--b\r\n\r\nx\r\n--b--",
            True,
            400,
            "invalid_parameter",
        ),
        ("multipart/form-data", "x", True, 400, "invalid_parameter"),
    ],
)
def test_bad_requests_are_problems(  # noqa: PLR0917 - parametrised
    upstream: responses.RequestsMock,
    content_type: str,
    body: str,
    b64: bool,
    status: int,
    code: str,
) -> None:
    event = with_body(content_type, body, b64=b64)
    if body == "%%%":
        event["body"] = "%%%"
    got, answer = invoke(event)
    assert (got, answer["code"]) == (status, code)


def test_a_photo_over_the_pixel_budget_is_a_422_naming_the_limit(table: str) -> None:
    from bench.image_memory import flat_png

    status, body = scan_image(flat_png(13000, 13000))
    assert status == 422
    assert body["code"] == "image_too_large"
    assert "at most 40 MP" in body["detail"]


@pytest.mark.parametrize(
    ("parts", "named", "reason"),
    [
        ([("image", "a.png"), ("caption", None)], "caption", "unknown parameter"),
        ([("image", "a.png"), ("image", "b.png")], "image", "sent more than once"),
    ],
    ids=["unknown-field", "second-image"],
)
def test_multipart_refuses_unknown_fields_and_a_second_image(
    table: str, parts: list[tuple[str, str | None]], named: str, reason: str
) -> None:
    # Before (issue 22): both were silently ignored, where JSON refuses unknown members.
    png = as_bytes(render(zint.Symbology.EANX, "690123456789"))
    body = b""
    for name, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--b\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + png + b"\r\n"
    body += b"--b--\r\n"
    status, problem = invoke(with_body("multipart/form-data; boundary=b", body, b64=True))
    assert (status, problem["code"]) == (400, "invalid_parameter")
    assert problem["invalid_params"] == [{"name": named, "reason": reason}]
