"""Upload lists: rows in order with every status, chunks, time limits, pacing, results."""

from __future__ import annotations

import csv
import io
import json

import pytest
import responses

from barcode_service.rows import CodeRow
from barcode_service.uploads.pacing import Pacer
from barcode_service.uploads.results import results_csv, tally
from local.context import LambdaContext
from tests.support.workers import (
    FOUND,
    MISSING,
    UID,
    Clock,
    Env,
    Sleeps,
    Upstream,
    drain,
    gtin13,
    make_worker,
    upload,
)


def test_small_csv_list_in_order_with_every_status(env: Env, mock: responses.RequestsMock) -> None:
    upstream = Upstream(mock, {FOUND})
    upstream.failing.add(gtin13(3))
    data = (
        "name,Barcode\r\n"
        f'"Tea, green",{FOUND}\r\n'
        "\r\n"
        f"pencil,{MISSING}\r\n"
        "typo,6901234567890\r\n"
        f"broken,{gtin13(3)}\r\n"
        f"again,{FOUND}\r\n"
        "evil,=HYPERLINK(1)\r\n"
    ).encode()
    result = make_worker(env).handle(upload(env, "codes.csv", data)).to_dict()
    assert result["objects"][0]["rows"] == 6
    job = env.job()
    assert job.status == "done"
    assert job.counts == {"total": 6, "found": 2, "not_found": 1, "invalid_gtin": 2, "error": 1}
    assert job.results is not None
    assert [(r["row"], r["line"], r["code"], r["status"]) for r in job.results] == [
        (1, 2, FOUND, "found"),
        (2, 4, MISSING, "not_found"),
        (3, 5, "6901234567890", "invalid_gtin"),
        (4, 6, gtin13(3), "error"),
        (5, 7, FOUND, "found"),
        (6, 8, "=HYPERLINK(1)", "invalid_gtin"),
    ]
    assert job.results[0]["product"]["name"] == f"Product {FOUND}"
    assert job.results[3]["error"]["code"] == "upstream_unavailable"
    # The repeated code was looked up once (the retries of the failing one are the upstream's).
    assert upstream.calls.count(FOUND) == 1
    document = env.read_json(f"results/{UID}.json")
    assert document["results"] == job.results
    assert document["counts"] == job.counts
    table = list(csv.reader(io.StringIO(env.read(f"results/{UID}.csv").decode("utf-8-sig"))))
    assert table[0][:4] == ["row", "line", "code", "status"]
    assert [line[2] for line in table[1:]][-1] == "'=HYPERLINK(1)"
    assert table[1][5] == f"Product {FOUND}"


def test_list_in_chunks_completes_in_order(env: Env, mock: responses.RequestsMock) -> None:
    codes = [gtin13(n) for n in range(25)]
    upstream = Upstream(mock, set(codes[::2]))
    worker = make_worker(env, upload_chunk_size=10, upload_inline_results=5)
    result = worker.handle(upload(env, "codes.txt", "\n".join(codes).encode())).to_dict()
    assert result["objects"][0]["chunks"] == 3
    assert env.job().status == "processing"
    messages = env.messages()
    assert len(messages) == 3
    # A duplicate delivery of a chunk changes nothing.
    worker.handle(messages[0]["Body"])
    worker.handle(messages[0]["Body"])
    for message in messages[1:]:
        worker.handle(message["Body"])
    job = env.job()
    assert job.status == "done"
    assert job.results is None  # too many rows to keep inline
    document = env.read_json(f"results/{UID}.json")
    assert [r["code"] for r in document["results"]] == codes
    assert [r["row"] for r in document["results"]] == list(range(1, 26))
    assert job.counts["found"] == 13
    assert sorted(upstream.calls) == sorted(codes)


def test_chunk_out_of_time_continues_in_a_new_message(
    env: Env, mock: responses.RequestsMock
) -> None:
    codes = [gtin13(n) for n in range(20)]  # ~2 looks at the clock per row: over 25 s
    Upstream(mock, set(codes))
    worker = make_worker(
        env, clock=Clock(), worker_time_margin_seconds=0, worker_lookups_per_second=1000
    )
    worker.start_invocation(LambdaContext())  # 25 s left, each row "takes" a few seconds
    worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
    assert env.job().status == "processing"
    bodies = [json.loads(m["Body"]) for m in env.messages()]
    assert bodies[0]["kind"] == "chunk"
    assert bodies[0]["start"] > 0
    for body in bodies:
        worker.handle(json.dumps(body))
    worker.start_invocation(LambdaContext())
    drain(env, worker)
    job = env.job()
    assert job.status == "done"
    assert [r["code"] for r in job.results or []] == codes


def test_chunk_of_a_finished_run_is_skipped(env: Env) -> None:
    worker = make_worker(env)
    body = json.dumps({"kind": "chunk", "upload_id": UID, "run": "gone", "chunk": 0})
    assert worker.handle(body).to_dict()["skipped"] == "run is over"


def test_failed_chunk_messages_are_retried(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = make_worker(env, upload_chunk_size=1)
    body = upload(env, "codes.txt", b"6901234567892\n4006381333931\n")
    monkeypatch.setattr(
        env.sqs, "send_message_batch", lambda **kw: {"Failed": [{"Id": "0"}], "Successful": []}
    )
    with pytest.raises(RuntimeError, match="not sent"):
        worker.handle(body)


def test_pacing_spaces_upstream_calls_only(env: Env, mock: responses.RequestsMock) -> None:
    codes = [gtin13(n) for n in range(4)]
    Upstream(mock, set(codes))
    sleeps = Sleeps()
    worker = make_worker(env, sleep=sleeps, clock=sleeps.clock, worker_lookups_per_second=2)
    worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
    assert len(sleeps.calls) == 3  # before the 2nd, 3rd and 4th upstream call
    assert sleeps.calls == [0.5, 0.5, 0.5]
    sleeps.calls.clear()
    sleeps.now += 1  # the last upstream call's interval is over
    other = "fedcba9876543210fedcba9876543210"
    worker.handle(upload(env, "codes.txt", "\n".join(codes).encode(), upload_id=other))
    assert env.job(other).counts["found"] == 4
    assert sleeps.calls == []  # all from cache now


def test_pacer_arithmetic() -> None:
    now = [0.0]
    slept: list[float] = []
    pacer = Pacer(4, clock=lambda: now[0], sleep=slept.append)
    pacer.take()
    now[0] = 0.1  # the upstream call took 100 ms: the next may start at 0.25, not 0.35
    pacer.take()
    assert slept == [pytest.approx(0.15)]
    now[0] = 10.0
    pacer.take()
    assert slept == [pytest.approx(0.15)]


def test_pacer_keeps_its_schedule_after_a_slightly_late_call_only() -> None:
    now = [100.0]
    slept: list[float] = []
    pacer = Pacer(4, clock=lambda: now[0], sleep=slept.append)
    pacer.take()  # next at 100.25
    now[0] = 100.45  # starved: started 0.2 s late
    pacer.take()  # the schedule holds: next at 100.5, not 100.7
    pacer.take()
    assert slept == [pytest.approx(0.05)]  # next at 100.75
    now[0] = 110.0  # a pause, not lateness
    pacer.take()
    pacer.take()  # no burst after it: a full interval
    assert slept == [pytest.approx(0.05), pytest.approx(0.25)]


def test_results_csv_and_tally() -> None:
    rows = [
        CodeRow.from_dict(row)
        for row in [
            {"row": 1, "code": "+1", "status": "invalid_gtin", "error": {"code": "invalid_gtin"}},
            {"row": 2, "code": "x", "status": "found", "product": {"gtin": "1", "name": "@n"}},
        ]
    ]
    text = results_csv(rows).decode("utf-8-sig")
    assert "'+1" in text
    assert "'@n" in text
    assert tally(rows) == {"total": 2, "found": 1, "not_found": 0, "invalid_gtin": 1, "error": 0}
