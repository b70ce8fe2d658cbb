"""Request bodies: base64 or text within a limit, multipart fields and files."""

from __future__ import annotations

import base64

import pytest

from barcode_service.errors import InvalidParameter, PayloadTooLarge
from barcode_service.request_body import (
    body_bytes,
    media_type,
    multipart_fields,
    multipart_file,
    multipart_parts,
)

BOUNDARY = "XyZ"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def form(*parts: tuple[str, str | None, bytes, str]) -> bytes:
    out = b""
    for name, filename, data, extra in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_media_type_is_lower_case_without_parameters() -> None:
    assert media_type("Image/PNG; charset=binary") == "image/png"
    assert media_type(None) == ""


def test_text_and_base64_bodies_are_the_same_bytes() -> None:
    assert body_bytes("héllo", False, 100) == "héllo".encode()
    assert body_bytes(base64.b64encode(b"\x00\xff").decode(), True, 100) == b"\x00\xff"
    assert body_bytes(None, False, 100) == b""


@pytest.mark.parametrize("encoded", [False, True])
def test_a_body_over_the_limit_is_413_naming_the_limit(encoded: bool) -> None:
    body = base64.b64encode(b"x" * 11).decode() if encoded else "x" * 11
    with pytest.raises(PayloadTooLarge, match="over 10 bytes"):
        body_bytes(body, encoded, 10)
    with pytest.raises(PayloadTooLarge, match="over 1 MB"):
        body_bytes("x" * (1024 * 1024 + 1), False, 1024 * 1024)


def test_a_body_of_exactly_the_limit_is_accepted() -> None:
    assert body_bytes("x" * 10, False, 10) == b"x" * 10


def test_broken_base64_is_400() -> None:
    with pytest.raises(InvalidParameter, match="not valid base64"):
        body_bytes("not base64!", True, 100)


def test_multipart_text_fields_skip_files_and_honour_charsets() -> None:
    raw = form(
        ("type", None, b"qrcode", ""),
        (
            "content",
            None,
            "测试".encode("gb18030"),
            "Content-Type: text/plain; charset=gb18030\r\n",
        ),
        ("image", "a.png", b"\x89PNG", "Content-Type: image/png\r\n"),
    )
    assert multipart_fields(CONTENT_TYPE, raw) == {"type": "qrcode", "content": "测试"}
    assert [p.filename for p in multipart_parts(CONTENT_TYPE, raw)] == [None, None, "a.png"]


def test_multipart_file_is_the_named_parts_bytes() -> None:
    raw = form(("image", "shelf.jpg", b"\xff\xd8\xff\x00binary", "Content-Type: image/jpeg\r\n"))
    assert multipart_file(CONTENT_TYPE, raw, "image") == b"\xff\xd8\xff\x00binary"


def test_a_missing_file_field_is_400_naming_it() -> None:
    raw = form(("other", None, b"x", ""))
    with pytest.raises(InvalidParameter) as caught:
        multipart_file(CONTENT_TYPE, raw, "image", "the photo")
    assert "the photo" in caught.value.detail
    assert caught.value.to_problem()["invalid_params"] == [{"name": "image", "reason": "missing"}]


def test_multipart_without_a_boundary_is_400() -> None:
    with pytest.raises(InvalidParameter, match="boundary"):
        multipart_fields("multipart/form-data", b"--x\r\n\r\n")
