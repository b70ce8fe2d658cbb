"""More sources through `python -m local.stack` over real HTTP, against the fakes.

Its own stack, asking `openfoodfacts,openlibrary,upcitemdb,baichuan` (uploads: only
Open Library): the banner names the order and what each provider has; a beauty product
is found through Open Food Facts' redirect to its sister instance in one call; a US
household product unknown to Open Food Facts is found through UPCitemdb's trial and
cached; TOO_FAST pauses UPCitemdb, EXCEED_LIMIT blocks it until its reset; an upload's
code that its providers cannot know is `not_served`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.fake_upstreams import (
    BEAUTY_CODE,
    FOUND_CODE,
    PET_FOOD_CODE,
    UPC_QUOTA_CODE,
    UPC_TOO_FAST_CODE,
    US_HOUSEHOLD_CODE,
    FakeUpstreams,
)
from tests.e2e.running import API_KEY, RunningStack, needs_function
from tests.e2e.stack_process import StackDidNotStart, local_stack
from tests.e2e.test_local_uploads_scans import _upload

pytestmark = pytest.mark.e2e

ORDER = "openfoodfacts,openlibrary,upcitemdb,baichuan"


@pytest.fixture(scope="module")
def stack(
    upstreams: FakeUpstreams, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    home = tmp_path_factory.mktemp("home")
    settings = {
        "LOOKUP_PROVIDERS": ORDER,
        "UPLOAD_LOOKUP_PROVIDERS": "openlibrary",
        "UPCITEMDB_REQUESTS_PER_MINUTE": "600",
    }
    try:
        with local_stack(upstreams, home, API_KEY, extra_env=settings) as running:
            yield RunningStack(running, upstreams)
    except StackDidNotStart as error:
        pytest.fail(f"the local stack did not print READY:\n{error}")


def test_the_banner_shows_the_order_and_what_each_provider_has(stack: RunningStack) -> None:
    banner = "".join(stack.output)
    assert f"  providers  {ORDER}\n" in banner
    assert "  uploads    openlibrary   (UPLOAD_LOOKUP_PROVIDERS)\n" in banner
    assert "    openfoodfacts  keyless; Open Food Facts, Beauty, Pet Food and Products" in banner
    assert "    openlibrary    keyless; NO PROVIDER_CONTACT: Open Library may refuse" in banner
    assert "    upcitemdb      trial (no UPCITEMDB_USER_KEY), 100 calls a day" in banner
    assert "    baichuan       paid; LOOKUP_API_KEY set\n" in banner


@pytest.mark.parametrize(
    ("code", "database", "sister"),
    [(BEAUTY_CODE, "openbeautyfacts", "/obf"), (PET_FOOD_CODE, "openpetfoodfacts", "/opff")],
)
def test_a_sister_databases_product_is_found_in_one_call(
    stack: RunningStack, code: str, database: str, sister: str
) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls.copy()
    answer = stack.get(f"/products/{code}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["provider"], body["details"]["database"]) == ("openfoodfacts", database)
    assert body["details"]["url"] == f"{stack.upstreams.base_url}{sister}/product/{code}"
    assert "ODbL" in body["attribution"]
    calls = stack.upstreams.calls - before
    # One provider call: Open Food Facts' redirect, followed to the sister instance.
    assert calls == {"openfoodfacts": 1, database: 1}


def test_a_us_household_product_is_found_through_upcitemdb_and_cached(
    stack: RunningStack,
) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls.copy()
    first = stack.get(f"/products/{US_HOUSEHOLD_CODE}")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["provider"], body["source"], body["brand"]) == ("upcitemdb", "upstream", "Clorox")
    assert body["price"] is None
    assert body["details"]["category"].startswith("Home & Garden")
    again = stack.get(f"/products/{US_HOUSEHOLD_CODE}").json()
    assert (again["provider"], again["source"]) == ("upcitemdb", "cache")
    calls = stack.upstreams.calls - before
    assert calls == {"openfoodfacts": 1, "upcitemdb": 1}  # Baichuan never asked


def test_too_fast_pauses_upcitemdb_for_its_retry_after(stack: RunningStack) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls["upcitemdb"]
    answer = stack.get(f"/products/{UPC_TOO_FAST_CODE}")
    # Baichuan (after it) does not know the code: UPCitemdb's pause is the answer.
    assert answer.status_code == 429, answer.text
    problem = answer.json()
    assert (problem["code"], problem["provider"]) == ("rate_limited", "upcitemdb")
    assert int(answer.headers["Retry-After"]) >= 1
    assert stack.upstreams.calls["upcitemdb"] == before + 1
    time.sleep(1.2)  # past its pause


def test_an_uploads_code_its_providers_cannot_know_is_not_served(stack: RunningStack) -> None:
    needs_function("upload_worker")
    status = _upload(stack, "codes.txt", "text/plain", f"{FOUND_CODE}\n".encode())
    assert status["status"] == "done", status
    (row,) = status["results"]
    assert row["status"] == "not_served"
    assert row["error"]["code"] == "not_served"
    assert status["counts"]["not_served"] == 1


def test_exceed_limit_blocks_upcitemdb_until_its_reset(stack: RunningStack) -> None:
    # Last: the block lasts until the fake's X-RateLimit-Reset.
    needs_function("lookup")
    first = stack.get(f"/products/{UPC_QUOTA_CODE}")
    assert first.status_code == 503, first.text
    problem = first.json()
    assert (problem["code"], problem["provider"]) == ("upstream_quota_exhausted", "upcitemdb")
    assert problem["reset_at"] == "2100-01-01T00:00:00+00:00"
    before = stack.upstreams.calls["upcitemdb"]
    second = stack.get("/products/041196910759")
    assert second.status_code == 503
    assert stack.upstreams.calls["upcitemdb"] == before
