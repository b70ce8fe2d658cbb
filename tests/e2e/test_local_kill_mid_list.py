"""A `kill -9` in the middle of a list: after a restart every row is answered (issue 22).

Before: 150 codes uploaded, the stack killed mid-list and started again (state kept),
the job stayed `processing` with 0 of 150 rows forever: its queue messages died with
the process, and nothing gave up. Now the upload sweeper runs at the stack's start
(every job still `processing` was left by the stopped stack) and resumes the run from
its stored state: the rows done keep their results, the rest are looked up.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.fake_upstreams import FakeUpstreams
from tests.e2e.stack_process import StackDidNotStart, StackProcess, local_stack, new_csv_upload

pytestmark = pytest.mark.e2e

API_KEY = "e2e-kill-key"
TIMEOUT = 30
ROWS = 150
SLOW = {
    # Small chunks, so progress shows; a slow lookup rate, so the kill lands mid-list;
    # the state saved every second, as often as a kill could need.
    "UPLOAD_CHUNK_SIZE": "10",
    "WORKER_LOOKUPS_PER_SECOND": "2",
    "UPLOADS_MAXIMUM_CONCURRENCY": "2",
    "LOCAL_STATE_SAVE_SECONDS": "1",
}


def ean13(n: int) -> str:
    payload = f"694{n:09d}"  # none of the fake upstream's special codes
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return payload + str((10 - total % 10) % 10)


def started(upstreams: FakeUpstreams, home: Path) -> Any:
    try:
        return local_stack(upstreams, home, API_KEY, state_dir=home / "kept", extra_env=SLOW)
    except StackDidNotStart as error:  # pragma: no cover - the message is the point
        pytest.fail(f"the local stack did not print READY:\n{error}")


def status(stack: StackProcess, upload_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"{stack.api}/uploads/{upload_id}", headers={"x-api-key": API_KEY}, timeout=TIMEOUT
    )
    body: dict[str, Any] = answer.json()
    return body


def upload_codes(stack: StackProcess, codes: list[str]) -> str:
    created = new_csv_upload(stack, API_KEY)
    upload = created["upload"]
    body = ("code\n" + "\n".join(codes) + "\n").encode()
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("codes.csv", body)}, timeout=TIMEOUT
    )
    assert sent.status_code == 204, sent.text
    return str(created["upload_id"])


def wait_for(check: Any, what: str, seconds: float = 180) -> Any:
    deadline = time.monotonic() + seconds  # a hang guard, not a timed assertion
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"gave up waiting for {what}")


def test_a_kill_in_the_middle_of_a_list_ends_with_every_row_answered(
    upstreams: FakeUpstreams, tmp_path: Path
) -> None:
    codes = [ean13(n) for n in range(ROWS)]
    with started(upstreams, tmp_path) as first:
        upload_id = upload_codes(first, codes)

        def some_chunks_done() -> bool:
            job = status(first, upload_id)
            done = (job.get("progress") or {}).get("chunks_done", 0)
            return job["status"] == "processing" and done >= 3

        wait_for(some_chunks_done, "the first chunks")
        time.sleep(1.5)  # one more state save with them in it
        before = status(first, upload_id)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(10)
    assert before["status"] == "processing"
    assert before["progress"]["chunks_done"] < before["progress"]["chunks_total"]

    with started(upstreams, tmp_path) as second:
        done = wait_for(
            lambda: (job := status(second, upload_id))["status"] == "done" and job,
            "the list to be finished after the restart",
        )
        rows = done.get("results")
        if rows is None:  # more rows than are kept inline
            rows = requests.get(done["results_url"], timeout=TIMEOUT).json()["results"]
    assert [row["code"] for row in rows] == codes  # every row, in order, once
    assert [row["row"] for row in rows] == list(range(1, ROWS + 1))
    assert {row["status"] for row in rows} <= {"found", "not_found"}  # all looked up
    assert done["counts"]["total"] == ROWS
