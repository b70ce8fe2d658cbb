"""`POST /v1/products/{code}` through the lookup handler: contribute, confirm, publish."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import responses

from barcode_service.callers import Caller
from barcode_service.community.model import CodeRecord, Contribution, Description
from barcode_service.community.store import DynamoCommunityStore
from barcode_service.uploads.jobs import DynamoJobStore
from functions.lookup import app
from local.context import LambdaContext
from tests.conftest import TABLE, response_headers
from tests.support.community import (
    KEY_A,
    KEY_B,
    KEY_C,
    SOAP,
    SOAP_AGAIN,
    UNKNOWN,
    contribution_event,
    lookup_event,
)
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_not_found,
    off_found,
    off_not_found,
    off_product_url,
)


@pytest.fixture(autouse=True)
def _community(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LOOKUP_PROVIDERS", "openfoodfacts,community,baichuan")
    app.service.cache_clear()
    app.community.cache_clear()
    yield
    app.service.cache_clear()
    app.community.cache_clear()


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def nobody_knows(table: str, secret: dict, upstream: responses.RequestsMock) -> None:
    """Open Food Facts and Baichuan answer "not found" for every code."""
    upstream.get(off_product_url(UNKNOWN), json=off_not_found(UNKNOWN), status=404)
    upstream.post(BAICHUAN_URL, json=baichuan_not_found())


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), json.loads(response["body"])


def provider_calls(upstream: responses.RequestsMock) -> int:
    return len(upstream.calls)


def test_contributed_answered_to_its_contributor_then_to_all_after_a_confirmation(
    nobody_knows: None, upstream: responses.RequestsMock
) -> None:
    assert invoke(lookup_event(UNKNOWN, KEY_A))[0] == 404
    calls = provider_calls(upstream)

    status, headers, body = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    assert status == 201, body
    assert "RateLimit" in headers  # the check is the caller's own lookup, on its budget
    assert body["status"] == "pending"
    assert body["confirmations"] == 1
    assert body["confirmations_needed"] == 2
    assert body["contribution"]["name"] == "Eco Dish Soap, Lemon"  # as sent
    assert body["shared"] is False
    assert body["share"]["status"] == "not_requested"
    assert provider_calls(upstream) == calls, "the cached 'not found' answered the check"

    status, _, mine = invoke(lookup_event(UNKNOWN, KEY_A))
    assert status == 200
    assert (mine["provider"], mine["details"]["status"]) == ("community", "pending")
    assert mine["details"]["confirmations"] == 1
    assert mine["name"] == "Eco Dish Soap, Lemon"
    assert mine["spec"] == "500 ml"
    assert invoke(lookup_event(UNKNOWN, KEY_B))[0] == 404, "pending: nobody else sees it"

    status, _, confirmed = invoke(contribution_event(UNKNOWN, SOAP_AGAIN, KEY_B))
    assert status == 201
    assert confirmed["status"] == "published"
    assert confirmed["confirmations"] == 2

    status, _, everyone = invoke(lookup_event(UNKNOWN, KEY_C))
    assert status == 200
    assert everyone["provider"] == "community"
    assert everyone["details"]["status"] == "published"
    assert everyone["details"]["published_by"] == "confirmations"
    assert everyone["name"] == "Eco Dish Soap, Lemon", "the first agreeing text, never merged"
    assert everyone["details"]["category"] is None
    assert everyone["source"] == "cache", "publication made it everyone's cached answer"
    assert provider_calls(upstream) == calls

    status, _, problem = invoke(contribution_event(UNKNOWN, SOAP, KEY_C))
    assert status == 409
    assert (problem["code"], problem["provider"]) == ("already_known", "community")


def test_a_pending_answer_is_never_cached_for_anyone(nobody_knows: None) -> None:
    invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    for _ in range(2):
        assert invoke(lookup_event(UNKNOWN, KEY_A))[0] == 200
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"PRODUCT#0{UNKNOWN}"}}
    )["Item"]
    assert item["status"]["S"] == "not_found"
    status, _, body = invoke(lookup_event(UNKNOWN, KEY_B))
    assert status == 404
    assert body["code"] == "not_found"


def test_a_code_a_provider_answers_is_409_naming_it(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.get(off_product_url(UNKNOWN), json=off_found(UNKNOWN, "Real Soap"))
    status, _, problem = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    assert status == 409
    assert problem["code"] == "already_known"
    assert problem["provider"] == "openfoodfacts"
    assert "openfoodfacts" in problem["detail"]
    invoke(contribution_event(UNKNOWN, SOAP, KEY_B))
    assert len(upstream.calls) == 1, "the second check was answered by the cache"


def test_repeating_a_contribution_changes_nothing(nobody_knows: None) -> None:
    first = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    again = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    assert (first[0], again[0]) == (201, 200)
    assert again[2]["contributed_at"] == first[2]["contributed_at"]
    changed = invoke(contribution_event(UNKNOWN, {**SOAP, "name": "Dish soap"}, KEY_A))
    assert changed[0] == 201
    assert changed[2]["contribution"]["name"] == "Dish soap"
    record = DynamoCommunityStore(TABLE, boto3.client("dynamodb")).get("0" + UNKNOWN)
    assert record is not None
    assert len(record.contributions) == 1, "one contribution per caller: replaced"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({}, ["name"]),
        ({"name": "  "}, ["name"]),
        ({"name": "x" * 201, "brand": 7, "share": "yes"}, ["name", "brand", "share"]),
        ({"name": "ok", "quantity": "1\x00l"}, ["quantity"]),
        ({"name": "ok", "brand": "\u202eevil"}, ["brand"]),
        ({"name": "ok", "image_upload_id": "../x"}, ["image_upload_id"]),
        ({"name": "ok", "image_url": "https://x"}, ["image_url"]),
    ],
)
def test_bad_bodies_name_every_field(body: dict[str, Any], names: list[str]) -> None:
    status, _, problem = invoke(contribution_event(UNKNOWN, body, KEY_A))
    assert status == 400
    assert [p["name"] for p in problem["invalid_params"]] == names


@pytest.mark.parametrize(
    ("code", "reason"),
    [("0012345678906", "check digit"), ("2012345678903", "restricted circulation")],
)
def test_bad_and_restricted_codes_are_refused_before_anything_is_spent(
    code: str, reason: str, upstream: responses.RequestsMock
) -> None:
    status, _, problem = invoke(contribution_event(code, SOAP, KEY_A))
    assert status == 400
    assert problem["code"] == "invalid_gtin"
    assert problem["invalid_params"][0]["name"] == "code"
    assert reason in problem["detail"]
    assert not upstream.calls


def test_the_daily_limit_is_a_429_with_retry_after(
    nobody_knows: None, upstream: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMUNITY_DAILY_LIMIT", "1")
    other = "0012345678912"
    upstream.get(off_product_url(other), json=off_not_found(other), status=404)
    assert invoke(contribution_event(UNKNOWN, SOAP, KEY_A))[0] == 201
    status, headers, problem = invoke(contribution_event(other, SOAP, KEY_A))
    assert status == 429
    assert problem["code"] == "contribution_limit_exceeded"
    assert 1 <= int(headers["Retry-After"]) <= 86_400
    assert invoke(contribution_event(other, SOAP, KEY_B))[0] == 201, "per caller"


def test_a_caller_may_name_only_its_own_finished_product_photo(nobody_knows: None) -> None:
    jobs = DynamoJobStore(TABLE, boto3.client("dynamodb"), ttl_seconds=3600)
    mine, theirs = "a" * 32, "b" * 32
    owner = contribution_owner(KEY_A)
    jobs.create(mine, "image", "soap.jpg", "image/jpeg", owner, purpose="product_image")
    jobs.create(theirs, "image", "x.jpg", "image/jpeg", "someone-else", purpose="product_image")
    status, _, problem = invoke(contribution_event(UNKNOWN, {**SOAP, "image_upload_id": theirs}))
    assert status == 400
    assert problem["invalid_params"][0]["name"] == "image_upload_id"
    status, _, problem = invoke(contribution_event(UNKNOWN, {**SOAP, "image_upload_id": mine}))
    assert status == 400, "not processed yet"
    assert "pending" in problem["detail"]
    finish_product_image(jobs, mine, "https://images.example.com/products/abc.jpg")
    status, _, body = invoke(contribution_event(UNKNOWN, {**SOAP, "image_upload_id": mine}))
    assert status == 201
    assert body["contribution"]["image_url"] == "https://images.example.com/products/abc.jpg"
    assert invoke(lookup_event(UNKNOWN, KEY_A))[2]["image_url"].endswith("/abc.jpg")


def test_contributions_need_the_community_in_use(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOKUP_PROVIDERS", "openfoodfacts,baichuan")
    status, _, problem = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    assert status == 403
    assert problem["code"] == "contribution_refused"


def contribution_owner(key_id: str) -> str:
    return Caller("api_key", key_id).key


def finish_product_image(jobs: DynamoJobStore, upload_id: str, url: str) -> None:
    jobs.begin(upload_id, "run-1", "image")
    row = {"status": "stored", "image_url": url, "width": 800, "height": 600}
    jobs.finish(
        upload_id,
        "run-1",
        counts={"total": 1},
        inline=[row],
        json_key=f"results/{upload_id}.json",
        csv_key=None,
        message=None,
    )


def test_a_provider_before_the_community_that_cannot_answer_holds_a_contribution(
    table: str, secret: dict, upstream: responses.RequestsMock
) -> None:
    upstream.get(off_product_url(UNKNOWN), body="upstream connect error", status=503)
    status, headers, problem = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    assert status == 503
    assert problem["code"] == "upstream_unavailable"
    assert problem["provider"] == "openfoodfacts"
    assert int(headers["Retry-After"]) > 0
    record = DynamoCommunityStore(TABLE, boto3.client("dynamodb")).get("0" + UNKNOWN)
    assert record is None, "nothing stored, nothing counted"


def test_a_provider_after_the_community_that_cannot_answer_does_not(
    table: str, upstream: responses.RequestsMock
) -> None:
    # No secret at all: Baichuan (listed after the community) is not configured.
    upstream.get(off_product_url(UNKNOWN), json=off_not_found(UNKNOWN), status=404)
    assert invoke(lookup_event(UNKNOWN, KEY_A))[0] == 503, "a GET still names Baichuan"
    status, _, body = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    assert status == 201, body
    assert invoke(lookup_event(UNKNOWN, KEY_A))[2]["provider"] == "community"


def test_contributions_need_a_known_caller(table: str) -> None:
    event = contribution_event(UNKNOWN, SOAP, KEY_A)
    event["requestContext"]["identity"]["apiKeyId"] = None
    status, _, problem = invoke(event)
    assert (status, problem["code"]) == (403, "contribution_refused")


def test_a_bad_format_names_the_parameter(table: str) -> None:
    status, _, problem = invoke(contribution_event(UNKNOWN, SOAP, KEY_A, {"format": "x" * 80}))
    assert status == 400
    assert problem["invalid_params"][0]["name"] == "format"


def test_a_code_published_meanwhile_is_409_and_gives_the_days_count_back(
    nobody_knows: None, upstream: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMUNITY_DAILY_LIMIT", "1")
    store = app.community().store
    change = store.change

    def someone_publishes_first(gtin14: str, changed: Any) -> Any:
        def theirs(record: CodeRecord) -> CodeRecord:
            record = record.with_contribution(Contribution("other", Description("Soap"), 1, 1))
            return record.publish("other", by="operator", now=2)

        change(gtin14, theirs)
        return change(gtin14, changed)

    monkeypatch.setattr(store, "change", someone_publishes_first)
    status, _, problem = invoke(contribution_event(UNKNOWN, SOAP, KEY_A))
    assert (status, problem["code"], problem["provider"]) == (409, "already_known", "community")
    monkeypatch.setattr(store, "change", change)
    other = "0012345678912"
    upstream.get(off_product_url(other), json=off_not_found(other), status=404)
    assert invoke(contribution_event(other, SOAP, KEY_A))[0] == 201, "the count was given back"


def test_a_code_keeps_a_bounded_number_of_contributions(
    nobody_knows: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("barcode_service.community.service.MAX_CONTRIBUTIONS", 2)
    assert invoke(contribution_event(UNKNOWN, SOAP, KEY_A))[0] == 201
    assert invoke(contribution_event(UNKNOWN, {"name": "Other"}, KEY_B))[0] == 201
    status, _, problem = invoke(contribution_event(UNKNOWN, {"name": "Third"}, KEY_C))
    assert (status, problem["code"]) == (403, "contribution_refused")
    changed = invoke(contribution_event(UNKNOWN, {"name": "Changed"}, KEY_A))
    assert changed[0] == 201, "a contributor may still change its own"
