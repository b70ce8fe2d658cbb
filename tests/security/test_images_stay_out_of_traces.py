"""Image bytes never go into trace metadata: the Tracer would record each captured
response, and an image (base64 in a Lambda answer) is no metadata, and it can exceed the
size of a trace segment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from barcode_service.observability import tracer
from functions.generate import app as generate_app
from local.context import LambdaContext
from tests.conftest import load_event
from tests.support.image_app import load_image_app
from tests.support.traces import RecordingProvider

BUCKET = "test-images"


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> RecordingProvider:
    recording = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", recording)
    return recording


@pytest.fixture
def generate(aws: None, table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("IMAGES_BUCKET", BUCKET)
    monkeypatch.setenv("GENERATE_BACKEND", "local")
    generate_app.service.cache_clear()
    yield generate_app
    generate_app.service.cache_clear()


def _traced(provider: RecordingProvider) -> str:
    assert any(kind == "subsegment" for kind, _ in provider.recorded)  # it did trace
    return json.dumps(provider.recorded, default=str)


def test_an_image_answer_of_generate_is_not_traced(
    generate: ModuleType, provider: RecordingProvider
) -> None:
    answer: dict[str, Any] = generate.lambda_handler(
        load_event("generate_get_image.json"), LambdaContext()
    )
    assert answer["statusCode"] == 200
    assert answer["isBase64Encoded"] is True
    traced = _traced(provider)
    assert answer["body"][:64] not in traced
    assert "PNG" not in traced  # no bytes either (the capture of _local's result)


def test_the_keyless_image_path_is_not_traced(provider: RecordingProvider) -> None:
    event = {
        "version": "2.0",
        "rawPath": "/img/ean13.png",
        "rawQueryString": "content=6901234567892&width=300&height=150",
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
        "queryStringParameters": {"content": "6901234567892", "width": "300", "height": "150"},
        "requestContext": {"http": {"method": "GET", "path": "/img/ean13.png"}},
        "isBase64Encoded": False,
    }
    answer = load_image_app("image_function_traced").lambda_handler(event, LambdaContext())
    assert answer["statusCode"] == 200
    assert answer["body"][:64] not in _traced(provider)
