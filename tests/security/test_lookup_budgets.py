"""One extracted API key can cost at most its daily budget of provider lookups.

Driven through the lookup handler (GET /products/{code}, POST /products/lookup,
POST /scans) with API Gateway events whose `requestContext` names the caller, against
moto and a mocked Baichuan. The budget counts answered provider calls, not requests:
cache and catalog answers stay free, a batch pays per code, and a code over budget is
a 429 `client_budget_exceeded` (a row of its own in a batch) with Retry-After.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import responses

from barcode_service.budgets import override_key
from barcode_service.callers import Caller
from functions.lookup import app
from local.context import LambdaContext
from tests.conftest import TABLE, load_event, response_headers
from tests.support.upstreams import BAICHUAN_URL, baichuan_found, baichuan_not_found

KEY_ID = "k7x2m9p4q1"  # the apiKeyId of the events in events/


def gtin13(body: str) -> str:
    """`body` (12 digits) with its EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


CODES = [gtin13(f"69012345{n:04d}") for n in range(10)]


class AtomicUpdates:
    """DynamoDB applies a conditional update atomically; moto does not across threads
    (a batch looks codes up on 4), so its budget updates are serialised here."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lock = threading.Lock()

    def update_item(self, **kwargs: Any) -> Any:
        with self.lock:
            return self.client.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture(autouse=True)
def _budget_of_three(monkeypatch: pytest.MonkeyPatch, table: str, secret: dict) -> Iterator[None]:
    monkeypatch.setenv("CLIENT_DAILY_LOOKUP_BUDGET", "3")
    app.service.cache_clear()
    budgets = app.service().budgets
    assert budgets is not None
    budgets.client = AtomicUpdates(budgets.client)
    yield
    app.service.cache_clear()


@pytest.fixture
def baichuan() -> Iterator[responses.RequestsMock]:
    """Baichuan knows every code it is asked for."""

    def found(request: Any) -> tuple[int, dict[str, str], str]:
        code = dict(p.split("=", 1) for p in str(request.body).split("&"))["code_sn"]
        return 200, {}, json.dumps(baichuan_found(code, f"Product {code}"))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BAICHUAN_URL, callback=found)
        yield mock


def as_caller(event: dict[str, Any], key_id: str = KEY_ID, sub: str | None = None) -> Any:
    event = copy.deepcopy(event)
    event["requestContext"]["identity"]["apiKeyId"] = key_id
    if sub is not None:
        event["requestContext"]["authorizer"] = {"claims": {"sub": sub}}
    return event


def get(code: str, key_id: str = KEY_ID, sub: str | None = None) -> tuple[int, dict, Any]:
    event = as_caller(load_event("lookup_get.json"), key_id, sub)
    event["path"] = f"/products/{code}"
    event["pathParameters"] = {"code": code}
    return invoke(event)


def batch(codes: list[str], key_id: str = KEY_ID) -> tuple[int, dict, Any]:
    event = as_caller(load_event("lookup_batch.json"), key_id)
    event["body"] = json.dumps({"codes": codes})
    return invoke(event)


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), json.loads(response["body"])


def remaining(headers: dict[str, str]) -> int:
    fields = dict(p.split("=") for p in headers["RateLimit"].split(";")[1:])
    return int(fields["r"])


def test_a_key_gets_its_budget_then_429s(baichuan: responses.RequestsMock) -> None:
    for n, code in enumerate(CODES[:3]):
        status, headers, body = get(code)
        assert status == 200, body
        assert body["source"] == "upstream"
        assert headers["RateLimit-Policy"] == '"daily-lookups";q=3;w=86400'
        assert remaining(headers) == 2 - n
    status, headers, body = get(CODES[3])
    assert status == 429
    assert body["code"] == "client_budget_exceeded"
    assert body["providers"] == [{"name": "baichuan", "outcome": "over_budget"}]
    assert 1 <= int(headers["Retry-After"]) <= 86_400
    assert remaining(headers) == 0
    assert len(baichuan.calls) == 3  # the fourth code never reached the provider


def test_cache_and_catalog_answers_stay_free(baichuan: responses.RequestsMock) -> None:
    for code in CODES[:3]:
        assert get(code)[0] == 200
    boto3.client("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"CATALOG#0{CODES[5]}"},
            "fields": {"M": {"name": {"S": "House blend"}}},
        },
    )
    for _ in range(3):
        status, headers, body = get(CODES[0])
        assert (status, body["source"]) == (200, "cache")
        assert remaining(headers) == 0
    status, _, body = get(CODES[5])
    assert (status, body["source"]) == (200, "catalog")
    assert len(baichuan.calls) == 3


def test_each_key_and_each_user_has_its_own_budget(baichuan: responses.RequestsMock) -> None:
    for code in CODES[:3]:
        assert get(code)[0] == 200
    assert get(CODES[3])[0] == 429
    assert get(CODES[3], key_id="partner-key")[0] == 200
    # A signed-in user is counted as that user, not as the app's shared key.
    status, headers, _ = get(CODES[4], sub="5f1c-user-sub")
    assert status == 200
    assert remaining(headers) == 2


def test_a_batch_pays_per_code_and_answers_the_rest(baichuan: responses.RequestsMock) -> None:
    assert get(CODES[0])[0] == 200  # cached now; 2 left
    codes = [CODES[0], CODES[1], CODES[2], CODES[3], CODES[1], "123"]
    status, headers, body = batch(codes)
    assert status == 200
    rows = body["results"]
    # Rows are looked up concurrently: which of the three uncached codes is refused varies.
    assert rows[0]["status"] == "found"  # cached: free
    assert rows[5]["status"] == "invalid_gtin"
    assert rows[4]["status"] == rows[1]["status"]  # a repeat is looked up once
    assert sorted(row["status"] for row in rows[1:4]) == ["error", "found", "found"]
    over = [row for row in rows if row["status"] == "error"]
    for row in over:
        assert row["error"]["status"] == 429
        assert row["error"]["code"] == "client_budget_exceeded"
    assert remaining(headers) == 0
    assert len(baichuan.calls) == 3


def test_not_found_answers_count_and_failed_calls_do_not(table: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(BAICHUAN_URL, json=baichuan_not_found())
        assert get(CODES[0])[0] == 404
    with responses.RequestsMock() as mock:
        mock.post(BAICHUAN_URL, status=503)
        status, headers, body = get(CODES[1])
    assert status == 503, body
    assert remaining(headers) == 2  # the not-found answer was a lookup, the outage was not


def test_scans_pay_from_the_same_budget(baichuan: responses.RequestsMock) -> None:
    for code in CODES[:3]:
        assert get(code)[0] == 200
    event = as_caller(load_event("scans_text.json"))
    event["body"] = json.dumps({"text": CODES[6]})
    event["isBase64Encoded"] = False
    status, headers, body = invoke(event)
    assert status == 200
    (entry,) = body["scans"]
    assert entry["status"] == "error"
    assert entry["error"]["code"] == "client_budget_exceeded"
    assert remaining(headers) == 0


def test_an_operator_override_lifts_one_key(baichuan: responses.RequestsMock) -> None:
    boto3.client("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": override_key(Caller("api_key", KEY_ID).key)},
            "daily_lookup_budget": {"N": "5"},
        },
    )
    for code in CODES[:5]:
        status, headers, _ = get(code)
        assert status == 200
    assert headers["RateLimit-Policy"] == '"daily-lookups";q=5;w=86400'
    assert get(CODES[5])[0] == 429
    assert get(CODES[0], key_id="another-key")[0] == 200  # cached: free for anyone


def test_budget_items_name_no_key_id(baichuan: responses.RequestsMock) -> None:
    get(CODES[0])
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    budget_items = [i for i in items if i["pk"]["S"].startswith("BUDGET#")]
    assert len(budget_items) == 1
    assert KEY_ID not in json.dumps(items)


def test_no_budget_means_no_headers(
    baichuan: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIENT_DAILY_LOOKUP_BUDGET", "0")
    from barcode_service.settings import get_settings

    get_settings.cache_clear()
    app.service.cache_clear()
    for code in CODES[:5]:
        status, headers, _ = get(code)
        assert status == 200
        assert "RateLimit" not in headers
