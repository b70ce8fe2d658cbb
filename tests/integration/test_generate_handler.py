"""The generate Lambda handler driven with the API Gateway events in events/.

AWS (S3, DynamoDB, Secrets Manager) is moto; GuGuData is `responses`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import responses
from PIL import Image

from functions.generate import app
from local.context import LambdaContext
from tests.conftest import SECRET, SECRET_VALUE, load_event, response_headers
from tests.support.upstreams import GUGUDATA_URL, gugudata_success

BUCKET = "test-images"
CDN_URL = "https://cdn.example.com/b/6901234567892.png"


@pytest.fixture(autouse=True)
def _fresh_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IMAGES_BUCKET", BUCKET)
    app.service.cache_clear()
    yield
    app.service.cache_clear()


@pytest.fixture
def bucket(aws: None) -> str:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    # Every test runs inside a mock: an unexpected upstream call fails instead of going out.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def use_backend(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setenv("GENERATE_BACKEND", backend)


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), json.loads(response["body"])


def stored(key_or_url: str) -> tuple[bytes, dict[str, Any]]:
    key = urlsplit(key_or_url).path.lstrip("/") if "://" in key_or_url else key_or_url
    if key.startswith(BUCKET + "/"):  # path-style presigned URL
        key = key[len(BUCKET) + 1 :]
    obj = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    return obj["Body"].read(), obj


def gugudata_status(code: int) -> dict[str, Any]:
    return {"DataStatus": {"StatusCode": code, "StatusDescription": "x"}, "Data": None}


# --- types ---------------------------------------------------------------------------


def test_types_lists_the_catalog() -> None:
    status, headers, body = invoke(load_event("generate_types.json"))
    assert status == 200
    assert headers["Cache-Control"].startswith("public")
    names = {entry["name"]: entry for entry in body["types"]}
    assert len(names) >= 50
    assert names["ean13"]["backends"] == ["local", "upstream"]
    assert names["qrcode"]["backends"] == ["local"]
    assert "JAN13" in names["ean13"]["aliases"]


# --- local rendering ----------------------------------------------------------------------


def test_local_render_end_to_end(
    monkeypatch: pytest.MonkeyPatch, table: str, bucket: str, upstream: responses.RequestsMock
) -> None:
    use_backend(monkeypatch, "local")
    status, headers, body = invoke(load_event("generate_get.json"))
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    assert body["type"] == "ean13"
    assert (body["width"], body["height"], body["format"]) == (300, 150, "png")
    assert body["backend"] == "local"
    assert body["cached"] is False
    assert body["url"].startswith("https://")
    assert "X-Amz-Signature=" in body["url"]  # no IMAGES_BASE_URL: presigned

    data, obj = stored(body["url"])
    assert obj["ContentType"] == "image/png"
    assert obj["CacheControl"] == "public, max-age=31536000, immutable"
    image = Image.open(io.BytesIO(data))
    assert image.size == (300, 150)
    assert image.mode == "1"
    assert len(upstream.calls) == 0

    # The same request again: served from the cache item, nothing rendered.
    monkeypatch.setattr(app, "build_generate_service", None)  # the warm service is reused
    status, _, again = invoke(load_event("generate_get.json"))
    assert status == 200
    assert again["cached"] is True
    assert again["backend"] == "local"
    assert urlsplit(again["url"]).path == urlsplit(body["url"]).path


def test_local_url_uses_the_cdn_when_configured(
    monkeypatch: pytest.MonkeyPatch, table: str, bucket: str
) -> None:
    use_backend(monkeypatch, "local")
    monkeypatch.setenv("IMAGES_BASE_URL", "https://images.example.com/")
    status, _, body = invoke(load_event("generate_post_form.json"))
    assert status == 200, body
    assert body["type"] == "code128"
    key = body["url"].removeprefix("https://images.example.com/")
    assert key.startswith("barcodes/")
    assert key.endswith(".png")
    assert len(key) == len("barcodes/") + 64 + len(".png")
    data, _ = stored(key)
    assert Image.open(io.BytesIO(data)).size == (400, 120)


def test_existing_object_is_not_rendered_again(
    monkeypatch: pytest.MonkeyPatch, table: str, bucket: str
) -> None:
    use_backend(monkeypatch, "local")
    _, _, first = invoke(load_event("generate_get.json"))
    # Lose the cache item: the S3 object (content-addressed) still answers.
    boto3.resource("dynamodb").Table(table).delete_item(
        Key={"pk": "BARCODE#" + urlsplit(first["url"]).path.rsplit("/", 1)[1][:-4]}
    )
    _, _, second = invoke(load_event("generate_get.json"))
    assert second["cached"] is True
    assert second["backend"] == "local"


def test_svg_is_always_local_and_has_a_viewbox(
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    bucket: str,
    secret: dict,
    upstream: responses.RequestsMock,
) -> None:
    use_backend(monkeypatch, "upstream")
    status, _, body = invoke(load_event("generate_post_multipart.json"))
    assert status == 200, body
    assert (body["type"], body["format"], body["backend"]) == ("qrcode", "svg", "local")
    data, obj = stored(body["url"])
    assert obj["ContentType"] == "image/svg+xml"
    svg = data.decode()
    assert 'width="256" height="256" viewBox="0 0 ' in svg
    assert len(upstream.calls) == 0


def test_post_json_with_text(monkeypatch: pytest.MonkeyPatch, table: str, bucket: str) -> None:
    use_backend(monkeypatch, "local")
    status, _, body = invoke(load_event("generate_post_json.json"))
    assert status == 200, body
    assert (body["type"], body["backend"], body["cached"]) == ("ean13", "local", False)


# --- upstream ------------------------------------------------------------------------------


def test_upstream_url_is_cached(
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    bucket: str,
    secret: dict,
    upstream: responses.RequestsMock,
) -> None:
    use_backend(monkeypatch, "upstream")
    upstream.get(GUGUDATA_URL, json=gugudata_success("EAN13:6901234567892", CDN_URL))
    status, _, body = invoke(load_event("generate_get.json"))
    assert status == 200, body
    assert body == {
        "url": CDN_URL,
        "type": "ean13",
        "width": 300,
        "height": 150,
        "format": "png",
        "backend": "upstream",
        "cached": False,
        # v2: an upstream render is not decoded here and its geometry is unknown.
        "verified": None,
        "module_px": None,
        "warnings": [],
    }
    assert len(upstream.calls) == 1
    sent = parse_qs(urlsplit(upstream.calls[0].request.url).query)
    assert sent["type"] == ["EAN13"]
    assert sent["content"] == ["6901234567892"]  # check digit added before the call
    assert sent["width"] == ["300"]
    assert sent["appkey"] == [secret["generate"]["appkey"]]

    status, _, again = invoke(load_event("generate_get.json"))
    assert status == 200
    assert again["cached"] is True
    assert again["url"] == CDN_URL
    assert len(upstream.calls) == 1  # no second call


def test_auto_uses_upstream_when_it_has_the_type(
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    bucket: str,
    secret: dict,
    upstream: responses.RequestsMock,
) -> None:
    use_backend(monkeypatch, "auto")
    upstream.get(GUGUDATA_URL, json=gugudata_success("EAN13:6901234567892", CDN_URL))
    _, _, body = invoke(load_event("generate_get.json"))
    assert body["backend"] == "upstream"


def test_auto_renders_types_the_upstream_lacks_locally(
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    bucket: str,
    secret: dict,
    upstream: responses.RequestsMock,
) -> None:
    use_backend(monkeypatch, "auto")
    event = load_event("generate_get.json")
    event["queryStringParameters"] = {"type": "QR", "content": "hi", "width": "64", "height": "64"}
    status, _, body = invoke(event)
    assert status == 200, body
    assert (body["type"], body["backend"]) == ("qrcode", "local")
    assert len(upstream.calls) == 0


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 503},
        {"json": gugudata_status(103)},
        {"json": gugudata_status(104)},
        {"status": 429},
    ],
    ids=["http-503", "in-arrears-103", "appkey-error-104", "http-429"],
)
@pytest.mark.usefixtures("table", "bucket", "secret")
def test_auto_falls_back_to_local(
    monkeypatch: pytest.MonkeyPatch, upstream: responses.RequestsMock, answer: dict[str, Any]
) -> None:
    use_backend(monkeypatch, "auto")
    upstream.get(GUGUDATA_URL, **answer)
    status, _, body = invoke(load_event("generate_get.json"))
    assert status == 200, body
    assert body["backend"] == "local"
    assert body["cached"] is False
    assert len(upstream.calls) >= 1
    data, _ = stored(body["url"])
    assert Image.open(io.BytesIO(data)).size == (300, 150)


def test_auto_without_appkey_renders_locally_without_calling(
    monkeypatch: pytest.MonkeyPatch, table: str, bucket: str, upstream: responses.RequestsMock
) -> None:
    use_backend(monkeypatch, "auto")
    boto3.client("secretsmanager").create_secret(
        Name=SECRET, SecretString=json.dumps({"generate": {"appkey": ""}, "lookup": {}})
    )
    status, _, body = invoke(load_event("generate_get.json"))
    assert status == 200, body
    assert body["backend"] == "local"
    assert len(upstream.calls) == 0


def test_auto_without_a_secret_configured(
    monkeypatch: pytest.MonkeyPatch, table: str, bucket: str, upstream: responses.RequestsMock
) -> None:
    use_backend(monkeypatch, "auto")
    monkeypatch.setenv("SECRET_ID", "")
    status, _, body = invoke(load_event("generate_get.json"))
    assert status == 200, body
    assert body["backend"] == "local"


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"status": 503}, ("upstream_unavailable", 503, "30")),
        ({"json": gugudata_status(103)}, ("upstream_in_arrears", 503, "3600")),
        ({"json": gugudata_status(104)}, ("upstream_auth_failed", 503, "3600")),
    ],
    ids=["http-503", "in-arrears-103", "appkey-error-104"],
)
@pytest.mark.usefixtures("table", "bucket", "secret")
def test_upstream_mode_errors_are_problems(
    monkeypatch: pytest.MonkeyPatch,
    upstream: responses.RequestsMock,
    answer: dict[str, Any],
    problem: tuple[str, int, str],
) -> None:
    code, status_code, retry_after = problem
    use_backend(monkeypatch, "upstream")
    upstream.get(GUGUDATA_URL, **answer)
    status, headers, body = invoke(load_event("generate_get.json"))
    assert status == status_code
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Retry-After"] == retry_after
    assert body["code"] == code
    assert SECRET_VALUE["generate"]["appkey"] not in json.dumps(body)


def test_upstream_mode_refuses_local_only_types(
    monkeypatch: pytest.MonkeyPatch, table: str, bucket: str, secret: dict
) -> None:
    use_backend(monkeypatch, "upstream")
    event = load_event("generate_get.json")
    event["queryStringParameters"] = {
        "type": "qrcode",
        "content": "x",
        "width": "64",
        "height": "64",
    }
    status, _, body = invoke(event)
    assert status == 400
    assert body["code"] == "unsupported_type"
    assert "GENERATE_BACKEND=upstream" in body["detail"]


# --- validation ------------------------------------------------------------------------------


def test_bad_check_digit_is_400_and_calls_nothing(upstream: responses.RequestsMock) -> None:
    status, headers, body = invoke(load_event("generate_bad_content.json"))
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "invalid_gtin"  # the same code as a lookup's wrong check digit
    assert "is 2, not 3" in body["detail"]
    assert len(upstream.calls) == 0


def ean(**changes: str) -> dict[str, str]:
    query = {"type": "ean13", "content": "690123456789", "width": "300", "height": "150"}
    query.update(changes)
    return {name: value for name, value in query.items() if value != "-"}


@pytest.mark.parametrize(
    ("query", "code", "fragment"),
    [
        (ean(type="nosuch"), "unsupported_type", "nosuch"),
        (ean(width="90"), "invalid_parameter", "at least 113 x"),
        (ean(width="20"), "invalid_parameter", "32 to 4000"),
        (ean(width="abc"), "invalid_parameter", "width must be an integer"),
        (ean(height="-"), "invalid_parameter", "'height' is required"),
        (ean(format="gif"), "invalid_parameter", "png' or 'svg"),
        (ean(type="code39", content="lower"), "invalid_parameter", "upper-case"),
        (ean(type="-"), "invalid_parameter", "'type' is required"),
    ],
    ids=[
        "unknown-type",
        "too-narrow",
        "below-bounds",
        "not-integer",
        "missing-height",
        "bad-format",
        "code39-charset",
        "no-type",
    ],
)
def test_validation_errors(query: dict[str, str], code: str, fragment: str) -> None:
    event = load_event("generate_get.json")
    event["queryStringParameters"] = query
    status, _, body = invoke(event)
    assert status == 400
    assert body["code"] == code
    assert fragment in body["detail"]


@pytest.mark.parametrize(
    ("content_type", "body", "fragment"),
    [
        ("application/json", "[1, 2]", "JSON object"),
        ("application/json", "{not json", "not valid application/json"),
        ("text/plain", "type=ean13", "unsupported Content-Type"),
        ("multipart/form-data", "--x\r\n", "boundary"),
    ],
)
def test_bad_post_bodies(content_type: str, body: str, fragment: str) -> None:
    event = load_event("generate_post_json.json")
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    event["body"] = body
    status, _, problem = invoke(event)
    assert status == (415 if content_type == "text/plain" else 400)
    assert fragment in problem["detail"]


def test_oversized_and_bad_base64_bodies() -> None:
    event = load_event("generate_post_json.json")
    event["body"] = json.dumps({"type": "qrcode", "content": "x" * 20_000})
    status, _, problem = invoke(event)
    assert status == 413
    assert problem["code"] == "payload_too_large"

    event = load_event("generate_post_multipart.json")
    event["body"] = "***not base64***"
    status, _, problem = invoke(event)
    assert status == 400
    assert "base64" in problem["detail"]
