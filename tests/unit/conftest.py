"""Unit test fixtures: a mocked provider, a lookup service on a fake clock, the upload env."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
import responses

from barcode_service.lookup import LookupService
from barcode_service.settings import load_settings
from barcode_service.uploads.jobs import DynamoJobStore
from barcode_service.wiring import build_lookup_service
from tests.conftest import TABLE
from tests.support.clocks import Clock
from tests.support.lookups import on_clock
from tests.support.workers import BUCKET, Env


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def service(table: str, secret: dict, clock: Clock) -> LookupService:
    """The real lookup service (moto table and secret) on the fake clock, never sleeping."""
    real = build_lookup_service(load_settings())
    return on_clock(real, clock)


@pytest.fixture
def env(table: str, secret: dict, monkeypatch: pytest.MonkeyPatch) -> Env:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="uploads")["QueueUrl"]
    monkeypatch.setenv("UPLOADS_BUCKET", BUCKET)
    monkeypatch.setenv("UPLOADS_QUEUE_URL", queue_url)
    settings = load_settings()
    jobs = DynamoJobStore(TABLE, boto3.client("dynamodb"), ttl_seconds=3600)
    return Env(s3, sqs, queue_url, jobs, settings)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as requests_mock:
        yield requests_mock
