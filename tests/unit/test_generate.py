"""The generate service: parameter validation, URL cache, image store, backend choice."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from barcode_service.errors import (
    CredentialsMissing,
    InvalidParameter,
    StorageError,
    UnsupportedType,
    UpstreamRejected,
    UpstreamUnavailable,
)
from barcode_service.generate import BarcodeRequest, GenerateService, parse_request
from barcode_service.gugudata import GeneratedImage
from barcode_service.settings import load_settings
from barcode_service.storage import CACHE_CONTROL, S3ImageStore, image_key
from barcode_service.symbologies import find_symbology
from barcode_service.url_cache import CachedUrl, DynamoUrlCache
from barcode_service.wiring import build_generate_service

BUCKET = "unit-images"
EAN = {"type": "ean13", "content": "690123456789", "width": 300, "height": 150}


# --- parameters ---------------------------------------------------------------------------


def test_parse_request_normalises() -> None:
    request = parse_request({**EAN, "width": "300", "show_text": "Yes", "format": "SVG"})
    assert request.symbology.name == "ean13"
    assert request.content == "6901234567892"
    assert (request.width, request.height) == (300, 150)
    assert request.format == "svg"
    assert request.show_text is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("0", False), ("on", True), ("", False)],
)
def test_show_text_values(value: Any, expected: bool) -> None:
    assert parse_request({**EAN, "show_text": value}).show_text is expected


def test_a_null_parameter_is_refused_not_taken_as_its_default() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_request({**EAN, "show_text": None, "fg": None})
    assert [p.name for p in caught.value.invalid_params] == ["show_text", "fg"]


def test_parameter_errors() -> None:
    with pytest.raises(InvalidParameter, match="show_text must be true or false"):
        parse_request({**EAN, "show_text": "maybe"})
    with pytest.raises(InvalidParameter, match="width must be an integer"):
        parse_request({**EAN, "width": True})
    with pytest.raises(InvalidParameter, match="width must be an integer"):
        parse_request({**EAN, "width": 300.5})
    with pytest.raises(InvalidParameter, match="height must be an integer"):
        parse_request({**EAN, "height": 4001})
    with pytest.raises(InvalidParameter, match="'content' must be a string"):
        parse_request({**EAN, "content": ["690123456789"]})
    with pytest.raises(InvalidParameter, match="'content' is required"):
        parse_request({**EAN, "content": ""})
    with pytest.raises(UnsupportedType):
        parse_request({**EAN, "type": "UNSPECIFIED"})


def test_numeric_content_from_json_is_accepted() -> None:
    assert parse_request({**EAN, "content": 690123456789}).content == "6901234567892"


def test_digest_depends_on_every_normalised_field() -> None:
    base = parse_request(EAN)
    assert base.digest == parse_request({**EAN, "content": "6901234567892"}).digest
    assert base.digest == parse_request({**EAN, "type": "JAN13"}).digest
    others = [
        parse_request({**EAN, "width": 301}),
        parse_request({**EAN, "height": 151}),
        parse_request({**EAN, "format": "svg"}),
        parse_request({**EAN, "show_text": True}),
        parse_request({**EAN, "type": "isbn", "content": "978030640615"}),
    ]
    assert len({base.digest, *(o.digest for o in others)}) == 6
    assert len(base.digest) == 64


# --- URL cache ------------------------------------------------------------------------------


class FailingTable:
    def get_item(self, **_: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")

    def put_item(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")


def test_url_cache_roundtrip_and_expiry(table: str) -> None:
    now = [1_000_000.0]
    cache = DynamoUrlCache(boto3.client("dynamodb"), table, 60, clock=lambda: now[0])
    cache.put("abc", CachedUrl("upstream", url="https://cdn.example.com/x.png"))
    cache.put("def", CachedUrl("local", key="barcodes/def.png"))
    assert cache.get("abc") == CachedUrl("upstream", url="https://cdn.example.com/x.png")
    assert cache.get("def") == CachedUrl("local", key="barcodes/def.png")
    assert cache.get("missing") is None
    item = boto3.resource("dynamodb").Table(table).get_item(Key={"pk": "BARCODE#abc"})["Item"]
    assert item["expires_at"] == 1_000_060
    now[0] += 61  # past expires_at, TTL deletion not yet run
    assert cache.get("abc") is None


def test_url_cache_ignores_malformed_items(table: str) -> None:
    resource = boto3.resource("dynamodb").Table(table)
    resource.put_item(Item={"pk": "BARCODE#bad", "backend": "ftp", "expires_at": 2**40})
    assert DynamoUrlCache(boto3.client("dynamodb"), table, 60).get("bad") is None


def test_url_cache_failures_are_misses() -> None:
    cache = DynamoUrlCache(FailingTable(), "t", 60)
    assert cache.get("abc") is None
    cache.put("abc", CachedUrl("upstream", url="https://x"))  # logged, not raised


def test_url_cache_disabled() -> None:
    assert DynamoUrlCache(None, "", 60).get("abc") is None
    DynamoUrlCache(None, "", 60).put("abc", CachedUrl("local", key="k"))
    DynamoUrlCache(FailingTable(), "t", 0).put(
        "abc", CachedUrl("local", key="k")
    )  # TTL 0: not written


# --- image store ----------------------------------------------------------------------------


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_image_store_put_exists_and_urls(s3: Any) -> None:
    store = S3ImageStore(s3, BUCKET, presign_expires=600)
    key = image_key("f" * 64, "svg")
    assert key == "barcodes/" + "f" * 64 + ".svg"
    assert store.exists(key) is False
    store.put(key, b"<svg/>", "svg")
    assert store.exists(key) is True
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/svg+xml"
    assert head["CacheControl"] == CACHE_CONTROL
    assert "Expires=" in store.url(key) or "X-Amz-Expires=600" in store.url(key)
    cdn = S3ImageStore(s3, BUCKET, base_url="https://img.example.com/")
    assert cdn.url(key) == f"https://img.example.com/{key}"


def test_image_store_errors(s3: Any) -> None:
    with pytest.raises(StorageError, match="IMAGES_BUCKET"):
        S3ImageStore(s3, "").exists("k")
    with pytest.raises(StorageError, match="IMAGES_BUCKET"):
        S3ImageStore(s3, "").url("k")
    missing = S3ImageStore(s3, "no-such-bucket")
    with pytest.raises(StorageError, match="could not store"):
        missing.put("k", b"x", "png")


def test_image_store_head_errors_other_than_404() -> None:
    class Forbidden:
        def head_object(self, **_: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "403"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                "HeadObject",
            )

    with pytest.raises(StorageError, match=r"could not check .*403"):
        S3ImageStore(Forbidden(), BUCKET).exists("k")


# --- backend choice ---------------------------------------------------------------------------


class FakeUpstream:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def generate(self, **kwargs: Any) -> GeneratedImage:
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return GeneratedImage(url="https://cdn.example.com/u.png")


def make_service(s3: Any, mode: str, upstream: FakeUpstream | None) -> GenerateService:
    return GenerateService(
        mode=mode,  # type: ignore[arg-type]
        images=S3ImageStore(s3, BUCKET, base_url="https://img.example.com"),
        cache=DynamoUrlCache(None, "", 60),
        upstream=upstream,  # type: ignore[arg-type]
    )


def test_upstream_gets_the_documented_type_name_and_label_flag(s3: Any) -> None:
    upstream = FakeUpstream()
    result = make_service(s3, "auto", upstream).generate(
        parse_request({**EAN, "type": "UCC13", "show_text": True})
    )
    assert result.backend == "upstream"
    assert upstream.calls == [
        {
            "type": "EAN13",
            "content": "6901234567892",
            "width": 300,
            "height": 150,
            "show_label": True,
        }
    ]


@pytest.mark.parametrize(
    "error",
    [UpstreamUnavailable("down"), UpstreamRejected("nope"), CredentialsMissing("no key")],
)
def test_auto_falls_back_on_any_upstream_error(s3: Any, error: Exception) -> None:
    result = make_service(s3, "auto", FakeUpstream(error)).generate(parse_request(EAN))
    assert result.backend == "local"
    assert result.url.startswith("https://img.example.com/barcodes/")


def test_upstream_mode_raises(s3: Any) -> None:
    service = make_service(s3, "upstream", FakeUpstream(UpstreamUnavailable("down")))
    with pytest.raises(UpstreamUnavailable):
        service.generate(parse_request(EAN))


def test_local_mode_never_calls_upstream(s3: Any) -> None:
    upstream = FakeUpstream()
    result = make_service(s3, "local", upstream).generate(parse_request(EAN))
    assert (result.backend, result.cached) == ("local", False)
    assert upstream.calls == []


def test_cached_items_of_the_other_backend_are_ignored_outside_auto(s3: Any, table: str) -> None:
    cache = DynamoUrlCache(boto3.client("dynamodb"), table, 60)
    request = parse_request(EAN)
    cache.put(request.digest, CachedUrl("upstream", url="https://cdn.example.com/u.png"))
    local = GenerateService(
        mode="local",
        images=S3ImageStore(s3, BUCKET, base_url="https://img.example.com"),
        cache=cache,
        upstream=None,
    )
    assert local.generate(request).backend == "local"
    # ...and now the local item is what auto serves from the cache.
    auto = GenerateService(mode="auto", images=local.images, cache=cache, upstream=None)
    result = auto.generate(request)
    assert (result.backend, result.cached) == ("local", True)


def test_svg_requests_render_locally_even_in_upstream_mode(s3: Any) -> None:
    upstream = FakeUpstream()
    service = make_service(s3, "upstream", upstream)
    request = BarcodeRequest(find_symbology("ean13"), "6901234567892", 300, 150, "svg")
    assert service.plan(request) == "local"
    body = s3.get_object(Bucket=BUCKET, Key=service.generate(request).url.split(".com/", 1)[1])[
        "Body"
    ].read()
    assert body.startswith(b"<?xml")
    assert upstream.calls == []


def test_build_service_wires_settings(aws: None) -> None:
    settings = load_settings(
        {"GENERATE_BACKEND": "upstream", "IMAGES_BUCKET": "b", "CACHE_TABLE": "t", "SECRET_ID": "s"}
    )
    service = build_generate_service(settings)
    assert service.mode == "upstream"
    assert service.upstream is not None
    assert service.upstream.url == settings.generate_api_url
    assert service.images.bucket == "b"
    assert service.cache.client is not None
    assert service.cache.table == "t"

    local = build_generate_service(load_settings({"GENERATE_BACKEND": "local"}))
    assert local.upstream is None
    assert local.cache.client is None
