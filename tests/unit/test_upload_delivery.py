"""Upload messages delivered twice, out of scheme, bad, too large, deleted or poisoned."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import responses
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)

from tests.conftest import TABLE, load_event
from tests.support.workers import (
    FOUND,
    MISSING,
    UID,
    Env,
    Upstream,
    make_worker,
    notification,
    upload,
)


def test_redelivery_is_processed_once(env: Env, mock: responses.RequestsMock) -> None:
    upstream = Upstream(mock, {FOUND})
    body = upload(env, "codes.txt", f"{FOUND}\n{MISSING}\n".encode())
    worker = make_worker(env)
    first = worker.handle(body).to_dict()
    updated = env.job().updated_at
    second = worker.handle(body).to_dict()
    assert second == first
    assert len(upstream.calls) == 2
    assert env.job().updated_at == updated
    # Even once the idempotency record is gone, the job record refuses a second run.
    dynamodb = boto3.client("dynamodb")
    for item in dynamodb.scan(TableName=TABLE)["Items"]:
        if item["pk"]["S"].startswith("IDEMPOTENCY#"):
            dynamodb.delete_item(TableName=TABLE, Key={"pk": item["pk"]})
    third = make_worker(env).handle(body).to_dict()
    assert third["objects"][0]["skipped"] == "already processed"
    assert len(upstream.calls) == 2


def test_new_upload_of_the_same_key_is_a_new_run(env: Env, mock: responses.RequestsMock) -> None:
    Upstream(mock, {FOUND})
    worker = make_worker(env)
    worker.handle(upload(env, "codes.txt", f"{FOUND}\n".encode(), sequencer="0A1"))
    worker.handle(upload(env, "codes.txt", f"{MISSING}\n{FOUND}\n".encode(), sequencer="0A2"))
    job = env.job()
    assert job.counts["total"] == 2
    assert [r["code"] for r in job.results or []] == [MISSING, FOUND]


def test_s3_test_event_and_foreign_keys_are_ignored(env: Env) -> None:
    worker = make_worker(env)
    test_event = load_event("sqs_s3_upload.json")["Records"][0]["body"]
    assert worker.handle(test_event).to_dict() == {"ignored": "s3:TestEvent"}
    result = worker.handle(notification("uploads/../../etc/passwd", 10)).to_dict()
    assert result["objects"][0] == {"ignored": "uploads/../../etc/passwd"}
    removed = json.loads(notification(f"uploads/{UID}.csv", 10))
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert worker.handle(json.dumps(removed)).to_dict() == {"objects": []}


@pytest.mark.parametrize(
    ("name", "data", "code", "detail"),
    [
        ("codes.gif", b"GIF89a", "unsupported_type", ".gif"),
        ("codes.csv", b"", "empty_upload", "empty"),
        ("codes.csv", b"barcode\r\n\r\n", "empty_upload", "no codes"),
        ("codes.csv", b"6901234567892\n\xff\xff\n", "unreadable_upload", "UTF-8"),
        ("photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "unreadable_upload", "cannot be read"),
        ("codes.csv", b"name,price\ntea,3\n", "unreadable_upload", "no code, barcode or gtin"),
    ],
)
def test_bad_inputs_fail_the_job_once(
    env: Env, name: str, data: bytes, code: str, detail: str
) -> None:
    worker = make_worker(env)
    body = upload(env, name, data)
    worker.handle(body)
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == code
    assert detail in job.error["detail"]
    # Not retried: a second delivery is a no-op and raises nothing.
    worker.handle(body)
    assert env.job().status == "failed"


def test_oversize_file_fails_without_download(env: Env) -> None:
    worker = make_worker(env, upload_max_list_bytes=10)
    worker.handle(upload(env, "codes.csv", b"6901234567892\n"))
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == "payload_too_large"


def test_oversize_body_is_caught_even_if_the_event_understates_it(env: Env) -> None:
    worker = make_worker(env, upload_max_list_bytes=10)
    env.jobs.create(UID, "list", "codes.csv", "text/csv")
    env.put(f"uploads/{UID}.csv", b"6901234567892\n")
    worker.handle(notification(f"uploads/{UID}.csv", 5))
    assert env.job().status == "failed"


def test_deleted_object_fails_the_job(env: Env) -> None:
    worker = make_worker(env)
    env.jobs.create(UID, "list", "codes.csv", "text/csv")
    worker.handle(notification(f"uploads/{UID}.csv", 20))
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert "deleted" in job.error["detail"]


def test_poison_chunk_fails_the_job_on_the_last_attempt(env: Env) -> None:
    worker = make_worker(env, upload_max_receive_count=3)
    job = env.jobs.create(UID, "list", "codes.csv", "text/csv")
    assert job.status == "pending"
    env.jobs.begin(UID, "run-1", "list")
    # The chunk's input file is missing: every attempt fails the same way.
    body = json.dumps({"kind": "chunk", "upload_id": UID, "run": "run-1", "chunk": 0, "start": 0})
    for attempt in (1, 2):
        with pytest.raises(Exception, match="NoSuchKey"):
            worker.handle(body, receive_count=attempt)
        assert env.job().status == "processing"
    with pytest.raises(Exception, match="NoSuchKey"):
        worker.handle(body, receive_count=3)
    failed = env.job()
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error["code"] == "processing_failed"
    assert "3 times" in failed.error["detail"]


def test_poison_s3_message_fails_its_job(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = make_worker(env)
    body = upload(env, "codes.csv", b"6901234567892\n")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("S3 is having a bad day")

    monkeypatch.setattr(env.s3, "get_object", broken)
    with pytest.raises(RuntimeError):
        worker.handle(body, receive_count=5)
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert "RuntimeError" in job.error["detail"]


def test_unreadable_messages_fail(env: Env) -> None:
    worker = make_worker(env)
    for body in ("not json", "[1, 2]", json.dumps({"hello": "world"})):
        with pytest.raises(ValueError, match=r"Expecting value|JSON object|neither"):
            worker.handle(body, receive_count=99)


def test_in_progress_duplicates_are_not_blamed(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = make_worker(env)
    env.jobs.create(UID, "list", "codes.csv", "text/csv")

    def busy(**kwargs: Any) -> Any:
        raise IdempotencyAlreadyInProgressError("busy")

    monkeypatch.setattr(worker, "_object_once", busy)
    with pytest.raises(IdempotencyAlreadyInProgressError):
        worker.handle(notification(f"uploads/{UID}.csv", 10), receive_count=10)
    assert env.job().status == "pending"
