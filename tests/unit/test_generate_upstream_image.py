"""response=image when the operator has images follow the upstream
(GENERATE_IMAGE_BACKEND=configured): the upstream's image is fetched, read back and
stored like a local render, or rendered locally when it cannot be used; and
UpstreamGenerateCall counts calls that were made."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import responses
from PIL import Image

from barcode_service import generate as generate_module
from barcode_service.barcode_request import parse_request
from barcode_service.errors import CredentialsNotConfigured, UpstreamUnavailable
from barcode_service.generate import GenerateService
from barcode_service.gugudata import MAX_IMAGE_BYTES, GeneratedImage, GuGuDataClient
from barcode_service.png import render_png
from barcode_service.storage import S3ImageStore, image_key
from barcode_service.symbologies import find_symbology
from barcode_service.transport import RetryPolicy
from barcode_service.url_cache import DynamoUrlCache
from tests.support.upstreams import GUGUDATA_URL, gugudata_success

BUCKET = "upstream-images"
APPKEY = "gg-appkey-SECRET-9999"
CDN_URL = "https://cdn.example.com/b/6901234567892.png?token=cdn-TOKEN-4242"
EAN = {"type": "ean13", "content": "6901234567892", "width": 300, "height": 150}
NO_RETRY = RetryPolicy(attempts=1, backoff=0.0, deadline=5.0)


def upstream_png() -> bytes:
    """What the upstream draws: a scannable EAN-13 of its own size (not ours)."""
    return render_png(find_symbology("ean13"), "6901234567892", 400, 200)


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    monkeypatch.setattr(generate_module, "count", lambda name, value=1: names.append(name))
    return names


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(GUGUDATA_URL, json=gugudata_success("EAN13:6901234567892", CDN_URL))
        yield mock


def service(s3: Any, mode: str = "upstream") -> GenerateService:
    client = GuGuDataClient(GUGUDATA_URL, lambda _refresh: APPKEY, policy=NO_RETRY)
    return GenerateService(
        mode=mode,  # type: ignore[arg-type]
        images=S3ImageStore(s3, BUCKET, base_url="https://images.example.com"),
        cache=DynamoUrlCache(None, "", 60),
        upstream=client,
        image_backend="configured",
    )


def stored(s3: Any) -> bytes:
    key = image_key(parse_request(EAN).digest, "png")
    body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def downloads(mock: responses.RequestsMock) -> int:
    return sum(1 for call in mock.calls if call.request.url.startswith("https://cdn.example.com"))


def test_the_upstream_image_is_fetched_read_back_stored_and_answered(
    s3: Any, upstream: responses.RequestsMock, counted: list[str]
) -> None:
    upstream.get(CDN_URL, body=upstream_png(), content_type="image/png")
    generator = service(s3)
    request = parse_request(EAN)
    image = generator.image(request)
    assert image.body == upstream_png()  # the upstream's bytes, not a local render
    assert Image.open(io.BytesIO(image.body)).size == (400, 200)
    assert image.barcode.backend == "upstream"
    assert image.content_type == "image/png"
    assert image.etag == request.etag  # the same ETag as a local image of the request
    assert stored(s3) == upstream_png()
    head = s3.head_object(Bucket=BUCKET, Key=image_key(request.digest, "png"))
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert "BarcodeRendered" not in counted
    assert "UpstreamImageStored" in counted
    # A repeat is the stored object: no second download.
    assert generator.image(parse_request(EAN)).body == upstream_png()
    assert downloads(upstream) == 1


def test_an_upstream_image_that_does_not_read_back_is_rendered_locally(
    s3: Any, upstream: responses.RequestsMock, counted: list[str]
) -> None:
    wrong = render_png(find_symbology("ean13"), "5901234123457", 300, 150)  # another GTIN
    upstream.get(CDN_URL, body=wrong, content_type="image/png")
    image = service(s3).image(parse_request(EAN))
    assert image.body != wrong
    assert image.barcode.backend == "local"
    assert image.barcode.verified is True
    assert Image.open(io.BytesIO(image.body)).size == (300, 150)
    assert stored(s3) == image.body  # the local render is what the key holds
    assert "UpstreamImageFallback" in counted


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>CDN error page</body></html>", "text/html"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),  # truncated
    ],
    ids=["html", "broken-png"],
)
def test_an_upstream_answer_that_is_no_image_is_rendered_locally(
    s3: Any, upstream: responses.RequestsMock, body: bytes, content_type: str
) -> None:
    upstream.get(CDN_URL, body=body, content_type=content_type)
    image = service(s3).image(parse_request(EAN))
    assert image.barcode.backend == "local"
    assert Image.open(io.BytesIO(image.body)).size == (300, 150)


def test_an_upstream_image_over_the_size_limit_is_not_read_and_is_rendered_locally(
    s3: Any, upstream: responses.RequestsMock, counted: list[str]
) -> None:
    upstream.get(CDN_URL, body=upstream_png() + b"\x00" * MAX_IMAGE_BYTES, content_type="image/png")
    image = service(s3).image(parse_request(EAN))
    assert image.barcode.backend == "local"
    assert Image.open(io.BytesIO(image.body)).size == (300, 150)
    assert "UpstreamImageFallback" in counted


def test_an_unreachable_upstream_image_is_rendered_locally_and_its_url_is_not_logged(
    s3: Any, upstream: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3's request lines too
    upstream.get(CDN_URL, status=404)
    image = service(s3).image(parse_request(EAN))
    assert image.barcode.backend == "local"
    assert "upstream image could not be fetched" in caplog.text  # the fallback is said...
    assert "cdn-TOKEN-4242" not in caplog.text  # ...without the URL's token
    assert APPKEY not in caplog.text


def test_a_jpeg_from_the_upstream_is_answered_as_a_png_of_its_pixels(
    s3: Any, upstream: responses.RequestsMock
) -> None:
    picture = Image.open(io.BytesIO(upstream_png())).convert("L")
    jpeg = io.BytesIO()
    picture.save(jpeg, format="JPEG", quality=95)
    upstream.get(CDN_URL, body=jpeg.getvalue(), content_type="image/jpeg")
    image = service(s3).image(parse_request(EAN))
    assert image.barcode.backend == "upstream"
    answered = Image.open(io.BytesIO(image.body))
    assert answered.format == "PNG"
    assert answered.size == (400, 200)
    assert answered.tobytes() == Image.open(io.BytesIO(jpeg.getvalue())).tobytes()


def test_a_type_no_decoder_reads_is_rendered_locally_not_served_unchecked(s3: Any) -> None:
    postnet = {"type": "postnet", "content": "12345", "width": 300, "height": 60}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(GUGUDATA_URL, json=gugudata_success("PostNet:12345", CDN_URL))
        mock.get(CDN_URL, body=upstream_png(), content_type="image/png")
        image = service(s3).image(parse_request(postnet))
    assert image.barcode.backend == "local"
    assert image.barcode.verified is None


def test_a_local_image_backend_never_fetches(s3: Any, upstream: responses.RequestsMock) -> None:
    generator = service(s3)
    generator.image_backend = "local"
    image = generator.image(parse_request(EAN))
    assert image.barcode.backend == "local"
    assert len(upstream.calls) == 0


# --- UpstreamGenerateCall counts calls that were made ---------------------------------------


class Client:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def generate(self, **_: Any) -> GeneratedImage:
        if self.error is not None:
            raise self.error
        return GeneratedImage(url="https://cdn.example.com/u.png")


def auto_service(s3: Any, client: Client) -> GenerateService:
    return GenerateService(
        mode="auto",
        images=S3ImageStore(s3, BUCKET, base_url="https://images.example.com"),
        cache=DynamoUrlCache(None, "", 60),
        upstream=client,  # type: ignore[arg-type]
    )


def test_a_keyless_request_counts_no_upstream_call(s3: Any, counted: list[str]) -> None:
    made = auto_service(s3, Client(CredentialsNotConfigured("no appkey"))).generate(
        parse_request(EAN)
    )
    assert made.backend == "local"
    assert "UpstreamGenerateCall" not in counted
    assert "GenerateLocalFallback" in counted


@pytest.mark.parametrize(
    ("error", "backend"),
    [(None, "upstream"), (UpstreamUnavailable("down"), "local")],
    ids=["answered", "failed"],
)
def test_a_call_that_was_made_is_counted_once(
    s3: Any, counted: list[str], error: Exception | None, backend: str
) -> None:
    made = auto_service(s3, Client(error)).generate(parse_request(EAN))
    assert made.backend == backend
    assert counted.count("UpstreamGenerateCall") == 1
