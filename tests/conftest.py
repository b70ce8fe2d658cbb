"""Shared fixtures: fake AWS credentials, moto, the cache table, a Lambda context."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from hypothesis import settings as hypothesis_settings
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from barcode_service.settings import get_settings
from local.context import LambdaContext
from local.resources import create_table
from local.template import Resolver, Template

# Every AWS call a function handler makes must be granted by its role in template.yaml.
pytest_plugins = ("tests.support.iam_audit",)

# Property tests draw the same examples on every run, so a gate never fails on a draw it
# did not make before; `HYPOTHESIS_PROFILE=explore` draws fresh ones when hunting bugs.
hypothesis_settings.register_profile("gate", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

TABLE = "test-cache"
SECRET = "test/barcode-backend/upstreams"
SECRET_VALUE = {
    "generate": {"appkey": "gg-appkey-SECRET-1111"},
    "lookup": {"api_key": "bc-apikey-SECRET-2222", "secret_key": "bc-secret-SECRET-3333"},
}
SECRET_STRINGS = ("gg-appkey-SECRET-1111", "bc-apikey-SECRET-2222", "bc-secret-SECRET-3333")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test runs with fake AWS credentials, no network, and fresh caches."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "barcode-test",
        "POWERTOOLS_METRICS_NAMESPACE": "BarcodeTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "SECRET_ID": SECRET,
        "CACHE_TABLE": TABLE,
        "UPSTREAM_BACKOFF": "0",
        # Tests of the Baichuan paths mock only Baichuan; router tests choose their own list.
        "LOOKUP_PROVIDERS": "baichuan",
        "UPLOAD_LOOKUP_PROVIDERS": "baichuan",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    get_settings.cache_clear()
    parameters.clear_caches()
    yield
    get_settings.cache_clear()
    parameters.clear_caches()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Moto for every AWS service used, one request at a time: in-process moto is not
    thread-safe (a worker's lookups ahead raced in its DynamoDB backend: "dictionary
    changed size during iteration" while copying an item another thread was updating)."""
    answer = BotocoreStubber.__call__
    one_at_a_time = threading.RLock()

    def serialised(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with one_at_a_time:
            return answer(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialised)
    with mock_aws():
        yield


def create_cache_table(name: str = TABLE) -> None:
    """The template's CacheTable (keys, TTL) in moto, named `name`."""
    create_table(_template_resolver(), "CacheTable", name, boto3.client)


@functools.cache
def _template_resolver() -> Resolver:
    return Resolver(Template.load(ROOT / "template.yaml"))


@pytest.fixture
def table(aws: None) -> str:
    create_cache_table()
    return TABLE


@pytest.fixture
def secret(aws: None) -> dict[str, Any]:
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(SECRET_VALUE))
    return SECRET_VALUE


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


def load_event(name: str) -> dict[str, Any]:
    """An event from events/ (the same files `sam local invoke -e` uses)."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


def response_headers(response: dict[str, Any]) -> dict[str, str]:
    """Single-value view of a Lambda proxy response's headers (REST APIs use multiValueHeaders)."""
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v}
    headers.update(response.get("headers") or {})
    return headers
