"""A code no provider in use serves: one meaning on every route (GET, batch, scans, uploads).

`not_served` (404 on GET, a `not_served` row elsewhere): nobody was asked, nothing is
cached, and the answer names the providers in use, so a code an upload's list cannot
look up is never reported as a product nobody knows.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
import responses

from tests.conftest import TABLE, load_event
from tests.integration.test_lookup_handler import _fresh_service, invoke  # noqa: F401 - autouse
from tests.support.workers import Env, make_worker, upload

FOOD = "6901234567892"  # a grocery code: only a book source is in use
BOOK = "9780140328721"


@pytest.fixture
def books_only(table: str, secret: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKUP_PROVIDERS", "openlibrary")


def assert_not_served(problem: dict[str, Any], code: str = FOOD) -> None:
    assert (problem["status"], problem["code"]) == (404, "not_served")
    assert problem["detail"] == f"no lookup provider in use (openlibrary) serves {code}"
    assert problem["providers"] == [{"name": "openlibrary", "outcome": "not_served"}]
    assert problem["gtin"] == "0" + code


def nothing_cached() -> None:
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert not [i for i in items if FOOD in i["pk"]["S"]]


def test_get_answers_404_not_served(books_only: None) -> None:
    with responses.RequestsMock() as upstream:  # nobody is asked
        status, headers, body = invoke(load_event("lookup_get.json"))
        assert len(upstream.calls) == 0
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert_not_served(body)
    nothing_cached()


def test_batch_rows_say_not_served(books_only: None) -> None:
    event = copy.deepcopy(load_event("lookup_batch.json"))
    event["body"] = json.dumps({"codes": [FOOD, "abc"]})
    with responses.RequestsMock():
        status, _, body = invoke(event)
    assert status == 200
    rows = body["results"]
    assert [row["status"] for row in rows] == ["not_served", "invalid_gtin"]
    assert_not_served(rows[0]["error"])


def test_scans_entries_say_not_served(books_only: None) -> None:
    event = copy.deepcopy(load_event("scans_text.json"))
    event["body"] = json.dumps({"text": FOOD, "format": "EAN_13"})
    with responses.RequestsMock():
        status, _, body = invoke(event)
    assert status == 200
    (entry,) = body["scans"]
    assert (entry["kind"], entry["status"]) == ("gtin", "not_served")
    assert_not_served(entry["error"])


def test_upload_rows_say_not_served_and_the_tally_counts_them(
    env: Env, mock: responses.RequestsMock
) -> None:
    mock.get("https://openlibrary.org/api/books", json={})
    worker = make_worker(env, lookup_providers="openlibrary")
    worker.handle(upload(env, "codes.txt", f"{FOOD}\n{BOOK}\n".encode()))
    job = env.job()
    assert job.status == "done"
    assert job.counts == {
        "total": 2,
        "found": 0,
        "not_found": 1,
        "invalid_gtin": 0,
        "error": 0,
        "not_served": 1,
    }
    assert job.results is not None
    served, book = job.results
    assert (served["status"], book["status"]) == ("not_served", "not_found")
    assert_not_served(served["error"])
    assert len(mock.calls) == 1  # only the book was asked for
