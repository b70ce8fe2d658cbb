"""Fault injection harness: a scripted upstream on loopback, small timeouts, the handlers.

Shared by tests/faults and tests/security (their conftest.py files import the fixtures).
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from barcode_service.cache import CachedLookup, DynamoLookupStore
from barcode_service.product import ProductFields
from local.context import LambdaContext
from tests.conftest import TABLE, load_event, response_headers
from tests.support.fault_server import FaultServer, Timed

LOOKUP_PATH = "/api/api_query.php"
GENERATE_PATH = "/barcode/barcode"
IMAGES_BUCKET = "test-images"
CODE = "6901234567892"  # the code of events/lookup_get.json
GTIN14 = "06901234567892"

# Small enough that every fault ends within a few seconds, as the contract's 25 s
# function timeout is to the production values (read 8 s, deadline 15 s). The deadline
# leaves room for every attempt on a loaded machine (three quick 5xx answers must not
# run out of it), and still cuts a dripping body or a hanging upstream short.
CONNECT_TIMEOUT = 0.3
READ_TIMEOUT = 0.3
DEADLINE = 3.0
# A response after the function's timeout is a lost request: the one time bound a fault
# test asserts (a hang guard, far from any figure; speed is measured in bench/).
FUNCTION_TIMEOUT = 25.0
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    server = FaultServer().start()
    for name, value in {
        "LOOKUP_API_URL": server.base_url + LOOKUP_PATH,
        "GENERATE_API_URL": server.base_url + GENERATE_PATH,
        "UPSTREAM_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "UPSTREAM_READ_TIMEOUT": str(READ_TIMEOUT),
        "UPSTREAM_DEADLINE": str(DEADLINE),
        "UPSTREAM_ATTEMPTS": "3",
        "UPSTREAM_BACKOFF": "0",
        "LEASE_WAIT_SECONDS": "1",
        "GENERATE_BACKEND": "upstream",
        "IMAGES_BUCKET": IMAGES_BUCKET,
        "IMAGES_BASE_URL": "https://images.example.test",
    }.items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_handlers() -> Iterator[None]:
    """Handler modules keep their service per container: one container per test."""
    reset_handler_services()
    yield
    reset_handler_services()


def reset_handler_services() -> None:
    """Forget the per-container services of the handler modules (a new "cold start")."""
    from functions.generate import app as generate_app
    from functions.lookup import app as lookup_app

    for module in (lookup_app, generate_app):
        service = getattr(module, "service", None)
        if hasattr(service, "cache_clear"):
            service.cache_clear()
        if hasattr(module, "_service"):
            module._service = None


@pytest.fixture
def images_bucket(aws: None) -> str:
    boto3.client("s3").create_bucket(Bucket=IMAGES_BUCKET)
    return IMAGES_BUCKET


@pytest.fixture
def stale_entry(table: str) -> dict[str, Any]:
    """A cached product for CODE, fetched 40 days ago: past freshness, inside stale grace."""
    fields = {"name": "Old Jasmine Tea", "brand": "Old Brand", "country": "中国"}
    fetched = int(time.time() - 40 * 86_400)
    entry = CachedLookup("found", ProductFields(**fields), fetched, fetched + 30 * 86_400)
    DynamoLookupStore(TABLE).put_result(GTIN14, entry, stale_grace=60 * 86_400)
    return fields


def _call(module: Any, event: dict[str, Any]) -> Timed:
    started = time.monotonic()
    response = module.lambda_handler(copy.deepcopy(event), LambdaContext())
    seconds = time.monotonic() - started
    body: Any = response.get("body")
    with contextlib.suppress(ValueError):  # a non-JSON body stays text
        body = json.loads(body) if body else None
    return Timed(response["statusCode"], response_headers(response), body, seconds, response)


def call_lookup(event: dict[str, Any] | None = None) -> Timed:
    from functions.lookup import app

    return _call(app, event or load_event("lookup_get.json"))


def generate_event(**query: str) -> dict[str, Any]:
    """GET /barcodes?... as API Gateway sends it (built from the lookup GET event)."""
    event = load_event("lookup_get.json")
    params = {"type": "ean13", "content": CODE, "width": "300", "height": "150", **query}
    event.update(
        resource="/barcodes",
        path="/barcodes",
        pathParameters=None,
        queryStringParameters=params,
        multiValueQueryStringParameters={k: [v] for k, v in params.items()},
    )
    event["requestContext"].update(resourcePath="/barcodes", path="/v1/barcodes")
    return event


def call_generate(event: dict[str, Any] | None = None) -> Timed:
    from functions.generate import app

    return _call(app, event or generate_event())


def within(limit: float, server: FaultServer, call: Callable[[], Timed]) -> Timed:
    """`call()` in a thread; fails if it runs past `limit` s (then frees it by stopping
    the server, so that a hanging client costs the test `limit` s, not its own delay)."""
    outcome: list[Timed | BaseException] = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # re-raised in the test's thread
            outcome.append(error)

    worker = threading.Thread(target=target, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        server.stop()
        worker.join(FUNCTION_TIMEOUT)
        pytest.fail(f"still running after {limit:.1f} s (ended {time.monotonic() - started:.1f} s)")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def assert_defined(result: Timed, status: int | None = None, code: str | None = None) -> None:
    """The response every fault must end in: within the function timeout, never 500, 5xx
    only 502/503, a problem+json with a stable code for errors, and Retry-After on 429/503."""
    assert result.seconds < FUNCTION_TIMEOUT, f"took {result.seconds:.1f} s"
    assert result.status != 500, result.body
    if status is not None:
        assert result.status == status, result.body
    if result.status >= 500:
        assert result.status in (502, 503), result.body
    if result.status in (429, 503):
        assert int(result.headers["Retry-After"]) >= 1
    if result.status >= 400:
        assert result.headers["Content-Type"] == "application/problem+json"
        assert isinstance(result.body, dict)
        assert set(result.body) >= PROBLEM_FIELDS
        assert result.body["status"] == result.status
        if code is not None:
            assert result.body["code"] == code, result.body
