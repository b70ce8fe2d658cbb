"""An upload belongs to its creator; its id and presigned fields never reach logs or traces.

Driven through the uploads handler (POST /uploads, GET /uploads/{id}) and the worker
against moto, with API Gateway events naming the caller (`identity.apiKeyId`, or a
Cognito user's `sub` in `authorizer.claims`).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from barcode_service.observability import logger, tracer
from functions.upload_worker import app as worker_app
from functions.uploads import app as uploads_app
from local.context import LambdaContext
from tests.conftest import load_event, response_headers
from tests.support.traces import RecordingProvider

BUCKET = "test-uploads"
KEY_A, KEY_B = "k7x2m9p4q1", "partner-key-2"


@pytest.fixture(autouse=True)
def uploads(aws: None, table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    queue = boto3.client("sqs").create_queue(QueueName="uploads")["QueueUrl"]
    monkeypatch.setenv("UPLOADS_BUCKET", BUCKET)
    monkeypatch.setenv("UPLOADS_QUEUE_URL", queue)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://api.example.test/v1")
    uploads_app.service.cache_clear()
    worker_app.worker.cache_clear()
    yield
    uploads_app.service.cache_clear()
    worker_app.worker.cache_clear()


def event(
    method: str, path: str, key_id: str | None, sub: str | None = None, body: Any = None
) -> dict[str, Any]:
    base = load_event("uploads_create.json" if method == "POST" else "uploads_status.json")
    request = copy.deepcopy(base)
    request["path"] = path
    if method == "GET":
        request["pathParameters"] = {"id": path.rsplit("/", 1)[1]}
    if body is not None:
        request["body"] = json.dumps(body)
    request["requestContext"]["identity"]["apiKeyId"] = key_id
    if sub is not None:
        request["requestContext"]["authorizer"] = {"claims": {"sub": sub}}
    return request


def call(request: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = uploads_app.lambda_handler(request, LambdaContext())
    return response["statusCode"], response_headers(response), json.loads(response["body"])


def create(key_id: str | None, sub: str | None = None) -> dict[str, Any]:
    body = {"filename": "codes.csv", "content_type": "text/csv"}
    status, _, created = call(event("POST", "/uploads", key_id, sub, body))
    assert status == 201, created
    return dict(created)


def status_of(upload_id: str, key_id: str | None, sub: str | None = None) -> tuple[int, Any]:
    status, _, body = call(event("GET", f"/uploads/{upload_id}", key_id, sub))
    return status, body


def test_another_key_gets_the_404_of_an_unknown_id() -> None:
    upload_id = create(KEY_A)["upload_id"]
    assert status_of(upload_id, KEY_A)[0] == 200
    other = status_of(upload_id, KEY_B)
    unknown = status_of("0" * 32, KEY_B)
    assert other[0] == unknown[0] == 404
    assert other[1] == unknown[1]  # byte for byte: nothing says the id exists
    assert upload_id not in json.dumps(other[1])


def test_a_signed_in_user_owns_uploads_across_keys() -> None:
    upload_id = create(KEY_A, sub="user-1")["upload_id"]
    assert status_of(upload_id, KEY_B, sub="user-1")[0] == 200  # same user, another app key
    assert status_of(upload_id, KEY_A)[0] == 404  # the key alone is not the user
    assert status_of(upload_id, KEY_A, sub="user-2")[0] == 404


def test_the_job_records_a_hash_not_the_key_id() -> None:
    create(KEY_A, sub="user-1")
    items = json.dumps(boto3.client("dynamodb").scan(TableName="test-cache")["Items"])
    assert KEY_A not in items
    assert "user-1" not in items
    assert '"owner"' in items


def test_no_caller_reads_an_upload_without_an_owner() -> None:
    from barcode_service.uploads.jobs import DynamoJobStore

    jobs = DynamoJobStore("test-cache", boto3.client("dynamodb"), ttl_seconds=3600)
    jobs.create("1" * 32, "list", "codes.csv", "text/csv")
    assert status_of("1" * 32, KEY_A)[0] == 404
    assert status_of("1" * 32, None)[0] == 404


def test_ids_and_presigned_fields_stay_out_of_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", lines)
    created = create(KEY_A)
    upload_id = created["upload_id"]
    status_of(upload_id, KEY_A)
    status_of(upload_id, KEY_B)
    # The worker's lines about the same upload.
    key = created["upload"]["fields"]["key"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"6901234567892\n")
    record = copy.deepcopy(load_event("sqs_s3_upload.json")["Records"][1])
    notification = json.loads(record["body"])
    notification["Records"][0]["s3"]["bucket"]["name"] = BUCKET
    notification["Records"][0]["s3"]["object"].update({"key": key, "size": 14})
    record["body"] = json.dumps(notification)
    worker_app.lambda_handler({"Records": [record]}, LambdaContext())
    logged = lines.getvalue()
    assert "upload created" in logged
    assert "upload_ref" in logged
    assert upload_id not in logged
    for name, value in created["upload"]["fields"].items():
        if name not in ("Content-Type", "key"):
            assert value not in logged, name


def test_ids_and_presigned_fields_stay_out_of_traces(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    created = create(KEY_A)
    status_of(created["upload_id"], KEY_A)
    status_of(created["upload_id"], KEY_B)
    assert any(name == "subsegment" for name, _ in provider.recorded)  # it did trace
    traced = json.dumps(provider.recorded, default=str)
    assert created["upload_id"] not in traced
    assert created["upload"]["fields"]["policy"] not in traced


def test_s3_object_keys_are_not_recorded_in_aws_subsegments() -> None:
    from aws_xray_sdk.ext import boto_utils

    operations = boto_utils.whitelist["services"]["s3"]["operations"]
    for name, operation in operations.items():
        assert "Key" not in operation.get("request_parameters", []), name
        assert "Prefix" not in operation.get("request_parameters", []), name
