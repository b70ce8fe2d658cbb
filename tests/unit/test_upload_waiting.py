"""Upload lists that meet a provider block wait for it to end, up to a cap."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses

from barcode_service.providers.baichuan import MSG_PLAN_USED_UP
from barcode_service.uploads.status import status_view
from tests.support.workers import (
    FOUND,
    RESET,
    UID,
    Env,
    Upstream,
    Wall,
    delayed_messages,
    drain,
    gtin13,
    make_worker,
    record_sends,
    upload,
)


def test_quota_used_up_mid_list_waits_for_the_reset(
    env: Env, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [gtin13(n) for n in range(6)]
    upstream = Upstream(mock, set(codes))
    upstream.quota = 2
    wall = Wall()
    sent = record_sends(env, monkeypatch)
    worker = make_worker(env, wall=wall)
    result = worker.handle(upload(env, "codes.txt", "\n".join(codes).encode())).to_dict()
    assert result["objects"][0]["deferred_at"] == 2
    assert upstream.calls == codes[:3]  # two answers, then the quota message

    job = env.job()
    assert job.status == "processing"
    reset = datetime.fromtimestamp(RESET, UTC).isoformat()
    assert job.waiting == {"code": "upstream_quota_exhausted", "until": reset}
    view = status_view(job, presign=str)
    assert view["status"] == "processing"
    assert "daily quota" in view["message"]
    assert reset in view["message"]
    [entry] = sent
    assert entry["DelaySeconds"] == 900  # the reset is hours away: SQS's longest delay
    # The rest of the chunk, from the blocked row, as a message of its own.
    first = json.loads(entry["MessageBody"])
    assert (first["kind"], first["chunk"], first["start"], first["wait"]) == ("chunk", 0, 2, 1)
    assert env.messages() == []
    assert delayed_messages(env) == 1

    # Delivered before the reset: the block answers, no upstream call, delayed again.
    wall.now = RESET - 30
    again = worker.handle(entry["MessageBody"]).to_dict()
    assert again == {"upload_id": UID, "chunk": 0, "deferred_at": 2, "delay": 60}
    assert len(upstream.calls) == 3
    assert json.loads(sent[-1]["MessageBody"])["wait"] == 2
    assert sent[-1]["DelaySeconds"] == 60
    # A duplicate of a message already handled sends nothing more.
    worker.handle(entry["MessageBody"])
    assert len(sent) == 2

    # After the reset the upstream answers again and the job completes.
    wall.now = RESET + 5
    upstream.quota = None
    worker.handle(sent[-1]["MessageBody"])
    assert len(upstream.calls) == 3 + 4
    done = env.job()
    assert done.status == "done"
    assert done.waiting is None
    assert done.counts == {"total": 6, "found": 6, "not_found": 0, "invalid_gtin": 0, "error": 0}
    assert [(r["row"], r["code"], r["status"]) for r in done.results or []] == [
        (n, code, "found") for n, code in enumerate(codes, start=1)
    ]
    assert "message" not in status_view(done, presign=str)
    assert len(sent) == 2


def test_account_block_waits_then_gives_up_after_the_cap(
    env: Env, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [gtin13(n) for n in range(9)]
    upstream = Upstream(mock, set(codes))
    upstream.quota, upstream.refusal = 4, MSG_PLAN_USED_UP
    wall = Wall()
    sent = record_sends(env, monkeypatch)
    worker = make_worker(env, wall=wall, upload_chunk_size=3, upload_max_wait_seconds=1800)
    worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
    drain(env, worker)  # chunk 0 is answered; chunks 1 and 2 meet the block
    assert len(upstream.calls) == 5
    job = env.job()
    assert job.status == "processing"
    assert job.waiting is not None
    assert job.waiting["code"] == "upstream_plan_exhausted"
    assert "this account" in status_view(job, presign=str)["message"]
    delayed = [json.loads(e["MessageBody"]) for e in sent if "DelaySeconds" in e]
    assert [(m["chunk"], m["start"], m["wait"]) for m in delayed] == [(1, 1, 1), (2, 0, 1)]
    assert {e.get("DelaySeconds") for e in sent[3:]} == {900}

    # The account block is over but the account is not fixed: one upstream call, wait again.
    wall.now += 1000
    for entry in sent[3:5]:
        worker.handle(entry["MessageBody"])
    assert len(upstream.calls) == 6
    assert [json.loads(e["MessageBody"])["wait"] for e in sent[5:]] == [2, 2]

    # Past the cap: the remaining rows get error rows, and the job completes.
    wall.now += 1000
    for entry in sent[5:7]:
        worker.handle(entry["MessageBody"])
    assert len(sent) == 7
    assert len(upstream.calls) == 7
    done = env.job()
    assert done.status == "done"
    assert done.waiting is None
    assert done.counts == {"total": 9, "found": 4, "not_found": 0, "invalid_gtin": 0, "error": 5}
    rows = env.read_json(f"results/{UID}.json")["results"]
    assert [r["code"] for r in rows] == codes
    assert [r["error"]["code"] for r in rows[4:]] == ["upstream_plan_exhausted"] * 5


def test_without_waiting_blocked_rows_are_errors(
    env: Env, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [gtin13(n) for n in range(5)]
    upstream = Upstream(mock, set(codes))
    upstream.quota = 2
    sent = record_sends(env, monkeypatch)
    worker = make_worker(env, wall=Wall(), upload_max_wait_seconds=0)
    worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
    job = env.job()
    assert job.status == "done"
    assert job.waiting is None
    assert job.counts == {"total": 5, "found": 2, "not_found": 0, "invalid_gtin": 0, "error": 3}
    assert [r["error"]["code"] for r in (job.results or [])[2:]] == ["upstream_quota_exhausted"] * 3
    assert len(upstream.calls) == 3  # the rest were answered by the block
    assert sent == []


def test_blocked_chunk_of_a_run_that_ends_sends_nothing(
    env: Env, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = Upstream(mock, {FOUND})
    upstream.quota = 0
    sent = record_sends(env, monkeypatch)
    worker = make_worker(env, wall=Wall())
    monkeypatch.setattr(env.jobs, "wait", lambda *args, **kwargs: None)  # superseded meanwhile
    result = worker.handle(upload(env, "codes.txt", f"{FOUND}\n".encode())).to_dict()
    assert result["objects"][0]["skipped"] == "run is over"
    assert sent == []
