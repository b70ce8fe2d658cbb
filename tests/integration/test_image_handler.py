"""The keyless image function driven with Lambda function URL events (no AWS at all)."""

from __future__ import annotations

import base64
import io
import json
from types import ModuleType
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from barcode_service.errors import InvalidParameter, NotFound
from barcode_service.image_path import MAX_DIMENSION, request_from_path
from local.context import LambdaContext
from tests.support.image_app import load_image_app


@pytest.fixture(scope="module")
def image_app() -> ModuleType:
    return load_image_app()


def url_event(path: str, query: dict[str, str], method: str = "GET") -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
        "queryStringParameters": query or None,
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "r-1"},
        "isBase64Encoded": False,
    }


def test_png_answer_is_verified_immutable_and_scans(image_app: ModuleType) -> None:
    query = {"content": "6901234567892", "width": "300", "height": "150"}
    answer = image_app.lambda_handler(url_event("/img/ean13.png", query), LambdaContext())
    assert answer["statusCode"] == 200
    headers = answer["headers"]
    assert headers["Content-Type"] == "image/png"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["X-Barcode-Verified"] == "true"
    assert headers["ETag"] == request_from_path("/img/ean13.png", query).etag
    image = Image.open(io.BytesIO(base64.b64decode(answer["body"])))
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.EAN13)
    assert found[0].text == "6901234567892"


def test_svg_answer_is_text(image_app: ModuleType) -> None:
    query = {"content": "hi", "width": "128", "height": "128", "fg": "1A237E"}
    answer = image_app.lambda_handler(url_event("/img/qrcode.svg", query), LambdaContext())
    assert answer["isBase64Encoded"] is False
    assert answer["body"].startswith("<?xml")


@pytest.mark.parametrize(
    ("path", "query", "status", "field"),
    [
        (
            "/img/ean13.png",
            {"content": "6901234567893", "width": "300", "height": "150"},
            400,
            "content",
        ),
        (
            "/img/ean13.png",
            {"content": "6901234567892", "width": "3000", "height": "150"},
            400,
            "width",
        ),
        (
            "/img/ean13.png",
            {"content": "690123456789", "width": "300", "height": "150", "x": "1"},
            400,
            "x",
        ),
        ("/img/ean13.gif", {"content": "690123456789"}, 404, None),
        ("/img/", {}, 404, None),
        ("/img/nosuchtype.png", {"content": "1", "width": "300", "height": "150"}, 400, None),
    ],
)
def test_refusals_are_cached_problems(
    image_app: ModuleType, path: str, query: dict[str, str], status: int, field: str | None
) -> None:
    answer = image_app.lambda_handler(url_event(path, query), LambdaContext())
    assert answer["statusCode"] == status
    assert answer["headers"]["Content-Type"] == "application/problem+json"
    assert answer["headers"]["Cache-Control"].startswith("public, max-age=")
    problem = json.loads(answer["body"])
    if field:
        assert problem["invalid_params"][0]["name"] == field


def test_only_get_and_head(image_app: ModuleType) -> None:
    answer = image_app.lambda_handler(url_event("/img/ean13.png", {}, "POST"), LambdaContext())
    assert answer["statusCode"] == 405
    assert answer["headers"]["Allow"] == "GET, HEAD"


def test_request_from_path_bounds() -> None:
    with pytest.raises(NotFound):
        request_from_path("/other/ean13.png", {})
    with pytest.raises(InvalidParameter, match=f"at most {MAX_DIMENSION} px"):
        request_from_path("/img/qrcode.png", {"content": "x", "width": "2001", "height": "100"})
    request = request_from_path(
        "/img/gs1_digital_link.png",
        {"content": "(01)09501101530003", "width": "300", "height": "300", "bg": "transparent"},
    )
    assert request.content == "https://id.gs1.org/01/09501101530003"
    assert request.style.bg is None
