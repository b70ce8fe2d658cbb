"""`python -m local.stack` over real HTTP: the lookup router's providers, cache and quota."""

from __future__ import annotations

import time

import pytest

from tests.e2e.fake_upstreams import (
    BOOK_ISBN,
    FOUND_CODE,
    OFF_DOWN_CODE,
    OFF_FOUND_CODE,
    OFF_GARBAGE_CODE,
    OFF_OLD_NOT_FOUND_CODE,
    OFF_RATE_LIMITED_CODE,
    OFF_SLOW_CODE,
    QUOTA_CODE,
)
from tests.e2e.running import RunningStack, needs_function

pytestmark = pytest.mark.e2e


def test_router_free_source_first_then_cache(stack: RunningStack) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls.copy()
    first = stack.get(f"/products/{OFF_FOUND_CODE}")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["provider"], body["source"], body["name"]) == (
        "openfoodfacts",
        "upstream",
        "Nutella",
    )
    assert "ODbL" in body["attribution"]
    assert body["details"]["allergens"] == ["milk", "nuts", "soybeans"]
    again = stack.get(f"/products/{OFF_FOUND_CODE}").json()
    assert (again["provider"], again["source"]) == ("openfoodfacts", "cache")
    assert stack.upstreams.calls["openfoodfacts"] == before["openfoodfacts"] + 1
    assert stack.upstreams.calls["lookup"] == before["lookup"]  # the paid one never asked


def test_router_books_go_to_open_library(stack: RunningStack) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls.copy()
    book = stack.get(f"/products/{BOOK_ISBN}")
    assert book.status_code == 200, book.text
    assert (book.json()["provider"], book.json()["details"]["authors"]) == (
        "openlibrary",
        ["Roald Dahl"],
    )
    assert stack.upstreams.calls["openfoodfacts"] == before["openfoodfacts"]
    assert stack.upstreams.calls["openlibrary"] == before["openlibrary"] + 1


def test_router_not_found_needs_every_provider(stack: RunningStack) -> None:
    needs_function("lookup")
    missing = stack.get(f"/products/{OFF_OLD_NOT_FOUND_CODE}")  # 200 with status 0
    assert missing.status_code == 404, missing.text
    assert [(p["name"], p["outcome"]) for p in missing.json()["providers"]] == [
        ("openfoodfacts", "not_found"),
        ("openlibrary", "not_served"),
        ("community", "not_found"),
        ("baichuan", "not_found"),
    ]
    before = stack.upstreams.calls.copy()
    assert stack.get(f"/products/{OFF_OLD_NOT_FOUND_CODE}").json()["source"] == "cache"
    assert stack.upstreams.calls == before


@pytest.mark.parametrize(
    ("code", "status", "problem_code", "outcome"),
    [
        (OFF_RATE_LIMITED_CODE, 429, "rate_limited", "rate_limited"),
        (OFF_DOWN_CODE, 503, "upstream_unavailable", "outage"),
        (OFF_SLOW_CODE, 503, "upstream_timeout", "outage"),
        (OFF_GARBAGE_CODE, 502, "upstream_error", "outage"),
    ],
)
def test_router_provider_that_cannot_answer_is_named(
    stack: RunningStack, code: str, status: int, problem_code: str, outcome: str
) -> None:
    needs_function("lookup")
    answer = stack.get(f"/products/{code}")
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert (problem["code"], problem["provider"]) == (problem_code, "openfoodfacts")
    named = problem["providers"][0]
    # A blocked provider also says when it may be asked again (a 429's pause, the breaker).
    assert {k: named[k] for k in ("name", "outcome")} == {
        "name": "openfoodfacts",
        "outcome": outcome,
    }
    assert set(named) <= {"name", "outcome", "retry_at"}
    later = {p["name"]: p for p in problem["providers"][1:]}
    assert later["baichuan"] == {"name": "baichuan", "outcome": "not_found"}
    assert int(answer.headers["Retry-After"]) > 0
    time.sleep(1.2)  # past the provider's pause, so the next scenario meets it fresh


def test_quota_exhausted_is_503_then_no_more_upstream_calls(stack: RunningStack) -> None:
    # Last: the quota block stays for the rest of this stack's (local) day.
    needs_function("lookup")
    warm = stack.get(f"/products/{FOUND_CODE}")  # in the cache before the block
    assert warm.status_code == 200, warm.text
    first = stack.get(f"/products/{QUOTA_CODE}")
    assert first.status_code == 503
    assert first.json()["code"] == "upstream_quota_exhausted", first.text
    assert int(first.headers["Retry-After"]) > 0
    before = stack.upstreams.calls["lookup"]
    second = stack.get("/products/4006381333931")
    assert second.status_code == 503
    assert stack.upstreams.calls["lookup"] == before
    cached = stack.get(f"/products/{FOUND_CODE}")
    assert cached.status_code == 200
    assert cached.json()["source"] == "cache"
