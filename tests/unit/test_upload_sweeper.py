"""No job processing forever (issue 22, item 5): the sweeper resumes or finishes stalled runs.

A lost queue message (past retention, dead-lettered, or dropped with a killed local
stack) left a list `processing` with rows unanswered, forever. The sweeper finds it in
the table's sparse ActiveJobs index once its record has not moved for
UPLOAD_STALL_SECONDS, resumes it from its stored state (chunk inputs, saved progress),
and after UPLOAD_STALL_RESUMES resumes answers every row it could not with an `error`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import responses

from barcode_service.uploads.bucket import UploadBucket
from barcode_service.uploads.results import ResultWriter
from barcode_service.uploads.sweeper import STALLED, Sweeper
from local.context import LambdaContext
from tests.support.workers import Clock, Env, Upstream, drain, gtin13, make_worker, upload

STALL = 1800


def sweeper(env: Env, clock: Callable[[], float] | None = None) -> Sweeper:
    bucket = UploadBucket(env.s3, env.settings.uploads_bucket)
    return Sweeper(
        env.settings,
        jobs=env.jobs,
        bucket=bucket,
        sqs=env.sqs,
        results=ResultWriter(env.settings, bucket, env.jobs),
        wall_clock=clock or (lambda: time.time() + STALL + 60),  # past the stall time
    )


def peek(env: Env) -> list[dict[str, Any]]:
    """The queued chunk messages' bodies, left on the queue."""
    answer = env.sqs.receive_message(
        QueueUrl=env.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def lose_messages(env: Env) -> int:
    """What a lost message does: the queue forgets it."""
    lost = 0
    while messages := env.messages():
        for message in messages:
            env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=message["ReceiptHandle"])
            lost += 1
    return lost


def split_list(env: Env, mock: responses.RequestsMock, rows: int = 12) -> list[str]:
    """A list split into chunks of 5 whose chunk messages are then lost."""
    codes = [gtin13(n) for n in range(rows)]
    Upstream(mock, set(codes[::2]))
    make_worker(env, upload_chunk_size=5).handle(
        upload(env, "codes.txt", "\n".join(codes).encode())
    )
    assert env.job().chunks_total == 3
    assert lose_messages(env) == 3
    return codes


def test_a_list_whose_messages_were_lost_is_resumed_and_done(
    env: Env, mock: responses.RequestsMock
) -> None:
    codes = split_list(env, mock)
    report = sweeper(env).sweep()
    assert (report.active, report.resumed) == (1, 1)
    bodies = peek(env)
    assert sorted(body["chunk"] for body in bodies) == [0, 1, 2]
    assert {body["redrive"] for body in bodies} == {1}  # not the lost messages' identity
    drain(env, make_worker(env, upload_chunk_size=5))
    job = env.job()
    assert job.status == "done"
    assert [row["code"] for row in job.results or []] == codes
    assert sweeper(env).sweep().active == 0  # a finished job leaves the index


def test_a_job_that_still_moves_is_left_alone(env: Env, mock: responses.RequestsMock) -> None:
    split_list(env, mock)
    report = sweeper(env, clock=time.time).sweep()
    assert (report.active, report.resumed, report.finished) == (1, 0, 0)
    assert env.messages() == []


def test_a_resume_starts_a_chunk_at_its_saved_row(env: Env, mock: responses.RequestsMock) -> None:
    codes = [gtin13(n) for n in range(20)]
    Upstream(mock, set(codes))
    worker = make_worker(
        env, clock=Clock(), worker_time_margin_seconds=0, worker_lookups_per_second=1000
    )
    worker.start_invocation(LambdaContext())  # the chunk runs out of time and hands on
    worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
    (handed_on,) = peek(env)
    assert handed_on["start"] > 0
    lose_messages(env)
    sweeper(env).sweep()
    (resumed,) = peek(env)
    assert (resumed["start"], resumed["redrive"]) == (handed_on["start"], 1)
    worker = make_worker(env)
    drain(env, worker)
    assert [row["code"] for row in env.job().results or []] == codes


def test_after_its_resumes_every_row_is_answered_saying_why(
    env: Env, mock: responses.RequestsMock
) -> None:
    codes = split_list(env, mock)
    worker = make_worker(env, upload_chunk_size=5)
    # The first resume gets chunk 0 done; its other messages are lost again.
    sweeper(env).sweep()
    chunk_zero = next(body for body in peek(env) if body["chunk"] == 0)
    worker.handle(json.dumps(chunk_zero))
    lose_messages(env)
    assert env.job().chunks_done == [0]
    # The second resume is lost whole; the third sweep finishes the job.
    assert sweeper(env).sweep().resumed == 1
    lose_messages(env)
    assert env.job().redrives == 2
    report = sweeper(env).sweep()
    assert report.finished == 1
    job = env.job()
    assert job.status == "done"
    rows = job.results or []
    assert [row["code"] for row in rows] == codes  # every row, in order
    assert [row["status"] for row in rows[:5]] == ["found", "not_found"] * 2 + ["found"]
    stalled = rows[5:]
    assert {row["status"] for row in stalled} == {"error"}
    assert {row["error"]["code"] for row in stalled} == {STALLED}
    assert "upload these rows again" in stalled[0]["error"]["detail"]
    assert job.counts["error"] == 7
    assert job.message is not None
    assert job.message.startswith("7 of 12 rows were not looked up")


def test_a_job_that_stalled_before_its_rows_were_read_fails_saying_why(env: Env) -> None:
    env.jobs.create("a" * 32, "image", "photo.jpg", "image/jpeg")
    env.jobs.begin("a" * 32, "run-1", "image")  # a worker that died decoding the photo
    report = sweeper(env).sweep()
    assert report.failed == 1
    job = env.jobs.get("a" * 32)
    assert job is not None
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == STALLED
    assert sweeper(env).sweep().active == 0


def test_two_sweepers_resume_a_job_once(env: Env, mock: responses.RequestsMock) -> None:
    split_list(env, mock)
    first, second = sweeper(env), sweeper(env)
    job = env.job()
    assert first.jobs.redrive(job.upload_id, job.run or "", job.updated_at or "") is not None
    # The second saw the record before the first moved it: its conditional write loses.
    assert second.jobs.redrive(job.upload_id, job.run or "", job.updated_at or "") is None


def test_the_sweeper_handler_answers_counts_only(env: Env, mock: responses.RequestsMock) -> None:
    from functions.upload_sweeper import app

    split_list(env, mock)
    app.sweeper.cache_clear()
    answer = app.lambda_handler({"stalled_after_seconds": 0}, LambdaContext())
    app.sweeper.cache_clear()
    assert answer == {"active": 1, "resumed": 1, "finished": 0, "failed": 0}
    assert len(peek(env)) == 3
