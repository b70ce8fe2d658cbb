"""The community catalog on the local stack over real HTTP: contribute, confirm, approve,
a product photo through the local uploads pipeline, and shares with the fake Open Food
Facts write API retried from the local share queue.

Its own stack: three API keys (three callers), `community` between the free providers
and Baichuan, sharing on with the fake's account.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image

from tests.e2e.fake_upstreams import FakeUpstreams
from tests.e2e.running import API_KEY, ROOT, TIMEOUT, RunningStack, needs_function
from tests.e2e.stack_process import StackDidNotStart, local_stack

pytestmark = pytest.mark.e2e

SECOND_KEY, THIRD_KEY = "e2e-community-key-2", "e2e-community-key-3"
SOAP = {"name": "Eco Dish Soap, Lemon", "brand": "Clearwater", "quantity": "500 ml"}


def upc(body: str) -> str:
    """A UPC-A code (11 digits + check digit) nobody in the fakes knows."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@pytest.fixture(scope="module")
def stack(
    upstreams: FakeUpstreams, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    home = tmp_path_factory.mktemp("home")
    settings = {
        "LOOKUP_PROVIDERS": "openfoodfacts,openlibrary,community,baichuan",
        "LOCAL_EXTRA_API_KEYS": f"{SECOND_KEY},{THIRD_KEY}",
        "COMMUNITY_SHARE_OPENFOODFACTS": "true",
    }
    try:
        with local_stack(upstreams, home, API_KEY, extra_env=settings) as running:
            yield RunningStack(running, upstreams)
    except StackDidNotStart as error:
        pytest.fail(f"the local stack did not print READY:\n{error}")


def call(stack: RunningStack, method: str, path: str, key: str, body: Any = None) -> Any:
    return requests.request(
        method, f"{stack.api}{path}", headers={"x-api-key": key}, json=body, timeout=TIMEOUT
    )


def operator(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    """`make community ARGS=...`: scripts/community.py --local on this stack's state."""
    env = {**os.environ, "LOCAL_STATE_DIR": str(stack.running.state_dir)}
    return subprocess.run(
        [sys.executable, "-m", "scripts.community", "--local", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_a_code_nobody_knows_is_answered_to_its_contributor_then_to_all(
    stack: RunningStack,
) -> None:
    needs_function("lookup")
    code = upc("00123456001")
    assert call(stack, "GET", f"/products/{code}", API_KEY).status_code == 404
    contributed = call(stack, "POST", f"/products/{code}", API_KEY, SOAP)
    assert contributed.status_code == 201, contributed.text
    assert contributed.json()["status"] == "pending"

    mine = call(stack, "GET", f"/products/{code}", API_KEY)
    assert mine.status_code == 200, mine.text
    assert (mine.json()["provider"], mine.json()["details"]["status"]) == ("community", "pending")
    assert call(stack, "GET", f"/products/{code}", SECOND_KEY).status_code == 404

    again = {"name": "eco dish soap lemon", "brand": "CLEARWATER"}
    confirmed = call(stack, "POST", f"/products/{code}", SECOND_KEY, again)
    assert confirmed.status_code == 201, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["confirmations"]) == ("published", 2)

    everyone = call(stack, "GET", f"/products/{code}", THIRD_KEY)
    assert everyone.status_code == 200, everyone.text
    product = everyone.json()
    assert (product["provider"], product["details"]["status"]) == ("community", "published")
    assert product["name"] == "Eco Dish Soap, Lemon"
    late = call(stack, "POST", f"/products/{code}", THIRD_KEY, SOAP)
    assert (late.status_code, late.json()["code"]) == (409, "already_known")


def test_an_operator_approves_with_the_cli(stack: RunningStack) -> None:
    needs_function("lookup")
    code = upc("00123456002")
    assert call(stack, "POST", f"/products/{code}", API_KEY, SOAP).status_code == 201
    listed = operator(stack, "list")
    assert listed.returncode == 0, listed.stderr
    assert f"0{code}  pending" in listed.stdout
    approved = operator(stack, "approve", code)
    assert approved.returncode == 0, approved.stderr
    answer = call(stack, "GET", f"/products/{code}", SECOND_KEY)
    assert answer.status_code == 200, answer.text
    assert answer.json()["details"]["published_by"] == "operator"
    exported = operator(stack, "export", "--format", "json")
    rows = {row["gtin"]: row for row in json.loads(exported.stdout)}
    assert rows[code.zfill(14)]["published_by"] == "operator"
    assert len(rows[code.zfill(14)]["contributor"]) == 32, "a caller hash, never the key"


def test_a_product_photo_through_the_local_uploads(stack: RunningStack) -> None:
    needs_function("upload_worker")
    photo = io.BytesIO()
    Image.new("RGB", (2400, 1800), "teal").save(photo, "JPEG")
    created = call(
        stack,
        "POST",
        "/uploads",
        API_KEY,
        {"filename": "soap.jpg", "content_type": "image/jpeg", "purpose": "product_image"},
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    form = ticket["upload"]
    files = {"file": ("soap.jpg", photo.getvalue(), "image/jpeg")}
    posted = requests.post(form["url"], data=form["fields"], files=files, timeout=TIMEOUT)
    assert posted.status_code in (200, 201, 204), posted.text
    status = wait_for(lambda: call(stack, "GET", f"/uploads/{ticket['upload_id']}", API_KEY).json())
    assert status["status"] == "done", status
    (row,) = status["results"]
    assert (row["width"], row["height"]) == (1600, 1200)
    image = requests.get(row["image_url"], timeout=TIMEOUT)
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).size == (1600, 1200)

    code = upc("00123456003")
    body = {**SOAP, "image_upload_id": ticket["upload_id"]}
    contributed = call(stack, "POST", f"/products/{code}", API_KEY, body)
    assert contributed.status_code == 201, contributed.text
    assert call(stack, "GET", f"/products/{code}", API_KEY).json()["image_url"] == row["image_url"]


def test_shares_reach_the_fake_open_food_facts_and_a_failure_is_retried(
    stack: RunningStack,
) -> None:
    needs_function("upload_worker")
    accepted, flaky = upc("00123456004"), upc("00123456005")
    shared = call(stack, "POST", f"/products/{accepted}", API_KEY, {**SOAP, "share": True})
    assert shared.status_code == 201, shared.text
    assert shared.json()["shared"] is True
    assert shared.json()["share"]["status"] == "accepted"

    stack.upstreams.write_failures["0" + flaky] = 1  # sent as its EAN-13
    queued = call(stack, "POST", f"/products/{flaky}", API_KEY, {**SOAP, "share": True})
    assert queued.status_code == 201, queued.text
    assert (queued.json()["shared"], queued.json()["share"]["status"]) == (False, "queued")

    def retried() -> dict[str, Any] | None:
        exported = json.loads(operator(stack, "export", "--format", "json").stdout)
        row = next(r for r in exported if r["gtin"] == flaky.zfill(14))
        return row if row["share"] == "accepted" else None

    assert wait_for(retried) is not None, "the worker sent it again from the share queue"
    writes = [p for u, p in stack.upstreams.requests if u == "openfoodfacts_write"]
    assert [p["code"] for p in writes if p["code"] == "0" + flaky] == ["0" + flaky] * 2
    assert all(p["app_name"] and p["app_uuid"] for p in writes)


def wait_for(check: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        unfinished = isinstance(found, dict) and found.get("status") in ("pending", "processing")
        if found and not unfinished:
            return found
        time.sleep(0.5)
    return check()
