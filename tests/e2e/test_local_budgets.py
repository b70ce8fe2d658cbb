"""Budgets and upload ownership work locally as in AWS: the local gateway names each key.

Its own stack (a daily budget of 3 lookups, a second key): the first key spends its
budget and gets 429s, the second key still has its own, and an upload of the first key
is a 404 for the second.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.fake_upstreams import FOUND_CODE, NOT_FOUND_CODE, FakeUpstreams
from tests.e2e.running import API_KEY, TIMEOUT, RunningStack, needs_function
from tests.e2e.stack_process import StackDidNotStart, local_stack

SECOND_KEY = "e2e-second-local-key"


def gtin13(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@pytest.fixture(scope="module")
def stack(
    upstreams: FakeUpstreams, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    home = tmp_path_factory.mktemp("home")
    settings = {"CLIENT_DAILY_LOOKUP_BUDGET": "3", "LOCAL_EXTRA_API_KEYS": SECOND_KEY}
    try:
        with local_stack(upstreams, home, API_KEY, extra_env=settings) as running:
            yield RunningStack(running, upstreams)
    except StackDidNotStart as error:
        pytest.fail(f"the local stack did not print READY:\n{error}")


def call(stack: RunningStack, method: str, path: str, key: str, body: Any = None) -> Any:
    return requests.request(
        method, f"{stack.api}{path}", headers={"x-api-key": key}, json=body, timeout=TIMEOUT
    )


def left(response: requests.Response) -> int:
    fields = dict(p.split("=") for p in response.headers["RateLimit"].split(";")[1:])
    return int(fields["r"])


def test_each_local_key_has_its_own_daily_budget(stack: RunningStack) -> None:
    needs_function("lookup")
    first = call(stack, "GET", f"/products/{FOUND_CODE}", API_KEY)
    assert first.status_code == 200, first.text
    assert first.headers["RateLimit-Policy"] == '"daily-lookups";q=3;w=86400'
    spent = 3 - left(first)  # every provider that answered (free ones too) counted
    assert spent >= 1
    unknown = [NOT_FOUND_CODE, *(gtin13(f"69000000{n:04d}") for n in range(100, 104))]
    for code in unknown:  # spend the rest on codes nobody knows (each one new)
        if left(first) == 0:
            break
        first = call(stack, "GET", f"/products/{code}", API_KEY)
        assert first.status_code in (404, 429), first.text
    assert left(first) == 0
    over = call(stack, "GET", "/products/4006381333948", API_KEY)
    assert over.status_code == 429, over.text
    assert over.json()["code"] == "client_budget_exceeded"
    assert int(over.headers["Retry-After"]) > 0
    assert left(over) == 0
    cached = call(stack, "GET", f"/products/{FOUND_CODE}", API_KEY)
    assert (cached.status_code, cached.json()["source"]) == (200, "cache")
    other = call(stack, "GET", "/products/4006381333948", SECOND_KEY)
    assert other.status_code in (200, 404), other.text
    assert left(other) < 3


def test_an_upload_is_only_its_creators(stack: RunningStack) -> None:
    needs_function("uploads")
    created = call(
        stack, "POST", "/uploads", API_KEY, {"filename": "codes.csv", "content_type": "text/csv"}
    )
    assert created.status_code == 201, created.text
    upload_id = created.json()["upload_id"]
    assert call(stack, "GET", f"/uploads/{upload_id}", API_KEY).status_code == 200
    other = call(stack, "GET", f"/uploads/{upload_id}", SECOND_KEY)
    unknown = call(stack, "GET", f"/uploads/{'0' * 32}", SECOND_KEY)
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()
