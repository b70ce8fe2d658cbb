"""The uploads API and worker handlers driven with the events in events/ and moto.

The end-to-end test follows a real upload: POST /uploads, the client's presigned POST
to S3, S3's notification to SQS, the worker fed from the queue like Lambda's event
source mapping, and GET /uploads/{id}.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
import requests
import responses

from functions.upload_worker import app as worker_app
from functions.uploads import app as uploads_app
from local.context import LambdaContext
from local.poller import lambda_record
from tests.conftest import load_event, response_headers
from tests.support.upstreams import BAICHUAN_URL, baichuan_found, baichuan_not_found

EVENT_BUCKET = "barcode-uploads-123456789012-us-east-1-0a1b2c3d4e5f"
EVENT_UPLOAD = "3f2c9a7e5b1d4c8fa0e6b2d4c6a8e0f1"


@dataclass
class Stack:
    s3: Any
    sqs: Any
    queue_url: str
    queue_arn: str

    def messages(self) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        return list(answer.get("Messages", []))


@pytest.fixture(autouse=True)
def _fresh_handlers() -> Iterator[None]:
    uploads_app.service.cache_clear()
    worker_app.worker.cache_clear()
    yield
    uploads_app.service.cache_clear()
    worker_app.worker.cache_clear()


@pytest.fixture
def stack(table: str, secret: dict, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The uploads bucket notifying the uploads queue, as template.yaml wires them."""
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    s3.create_bucket(Bucket=EVENT_BUCKET)
    queue_url = sqs.create_queue(QueueName="uploads")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    queue_arn = arn["Attributes"]["QueueArn"]
    monkeypatch.setenv("UPLOADS_BUCKET", EVENT_BUCKET)
    monkeypatch.setenv("UPLOADS_QUEUE_URL", queue_url)
    monkeypatch.setenv("WORKER_TIME_MARGIN_SECONDS", "0")
    return Stack(s3, sqs, queue_url, queue_arn)


def notify(stack: Stack) -> None:
    rules = [{"Name": "prefix", "Value": "uploads/"}]
    stack.s3.put_bucket_notification_configuration(
        Bucket=EVENT_BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": stack.queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            ]
        },
    )


def call_api(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = uploads_app.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), json.loads(response["body"])


def sqs_event(stack: Stack, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Received messages as Lambda's SQS event source hands them to the function."""
    return {"Records": [lambda_record(m, stack.queue_arn, "us-east-1") for m in messages]}


def drain(stack: Stack) -> int:
    """Run the worker on queued batches until the queue is empty, settling each batch."""
    invocations = 0
    while messages := stack.messages():
        invocations += 1
        response = worker_app.lambda_handler(sqs_event(stack, messages), LambdaContext())
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        assert not failed, failed
        for message in messages:
            stack.sqs.delete_message(
                QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
    return invocations


def test_create_upload_event(stack: Stack) -> None:
    status, headers, body = call_api(load_event("uploads_create.json"))
    assert status == 201
    upload_id = body["upload_id"]
    assert body["upload"]["fields"]["key"] == f"uploads/{upload_id}.csv"
    assert body["upload"]["fields"]["Content-Type"] == "text/csv"
    assert body["expires_in"] == 900
    expected = f"https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/uploads/{upload_id}"
    assert body["status_url"] == expected
    assert headers["Location"] == expected
    status, _, job = call_api(status_event(upload_id))
    assert status == 200
    assert job["status"] == "pending"
    assert job["filename"] == "条码清单 2026-11.csv"


def status_event(upload_id: str) -> dict[str, Any]:
    event = load_event("uploads_status.json")
    event["path"] = f"/uploads/{upload_id}"
    event["pathParameters"] = {"id": upload_id}
    return event


def test_create_upload_bad_type_event(stack: Stack) -> None:
    status, headers, body = call_api(load_event("uploads_create_bad_type.json"))
    assert status == 400
    assert headers["Content-Type"] == "application/problem+json"
    assert body["code"] == "unsupported_type"
    assert ".pdf" in body["detail"] or "application/pdf" in body["detail"]


def test_create_upload_needs_a_json_body(stack: Stack) -> None:
    event = load_event("uploads_create.json")
    event["body"] = "filename=codes.csv"
    status, _, body = call_api(event)
    assert status == 400
    assert body["code"] == "invalid_parameter"


def test_status_unknown_and_malformed(stack: Stack) -> None:
    status, _, body = call_api(load_event("uploads_status.json"))
    assert status == 404
    assert body["code"] == "not_found"
    status, _, body = call_api(status_event("..%2F..%2Fetc"))
    assert status == 400
    assert body["code"] == "invalid_parameter"


def test_public_base_url_wins(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:3000/v1")
    _, _, body = call_api(load_event("uploads_create.json"))
    assert body["status_url"] == f"http://127.0.0.1:3000/v1/uploads/{body['upload_id']}"


def test_worker_event_from_events_dir(stack: Stack) -> None:
    """events/sqs_s3_upload.json: an S3 test event and an upload notification in one batch."""
    # The job the API created for the events' API key (an ownerless job is nobody's).
    from barcode_service.callers import Caller
    from barcode_service.uploads.jobs import DynamoJobStore

    owner = Caller("api_key", "k7x2m9p4q1").key
    jobs = DynamoJobStore("test-cache", boto3.client("dynamodb"), ttl_seconds=3600)
    jobs.create(EVENT_UPLOAD, "list", "codes.csv", "text/csv", owner)
    stack.s3.put_object(
        Bucket=EVENT_BUCKET,
        Key=f"uploads/{EVENT_UPLOAD}.csv",
        Body=b"barcode\r\n6901234567890\r\nnot-a-code\r\n",
    )
    with responses.RequestsMock():  # no upstream call may happen
        response = worker_app.lambda_handler(load_event("sqs_s3_upload.json"), LambdaContext())
    assert response == {"batchItemFailures": []}
    status, _, body = call_api(load_event("uploads_status.json"))
    assert status == 200
    assert body["status"] == "done"
    assert body["counts"]["invalid_gtin"] == 2
    assert [r["code"] for r in body["results"]] == ["6901234567890", "not-a-code"]
    assert "results_csv_url" in body


def test_poison_record_fails_alone(stack: Stack) -> None:
    event = copy.deepcopy(load_event("sqs_s3_upload.json"))
    poison = copy.deepcopy(event["Records"][0])
    poison["messageId"] = "a7d1f7a2-0000-4000-8000-000000000001"
    poison["body"] = "{not json"
    poison["attributes"]["ApproximateReceiveCount"] = "5"
    event["Records"].append(poison)
    response = worker_app.lambda_handler(event, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}


def test_upload_end_to_end(stack: Stack) -> None:
    notify(stack)
    assert drain(stack) == 1  # S3's test event, ignored
    _, _, created = call_api(load_event("uploads_create.json"))
    post = created["upload"]
    csv_body = "条码,名称\r\n6901234567892,绿茶\r\n4006381333931,铅笔\r\n".encode("gb18030")
    answer = requests.post(
        post["url"], data=post["fields"], files={"file": ("codes.csv", csv_body)}, timeout=5
    )
    assert answer.status_code == 204

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        # By code, not by order: the worker looks rows up ahead, several at once.
        code = parse_qs(str(request.body))["code_sn"][0]
        body = baichuan_found(code, "绿茶") if code == "6901234567892" else baichuan_not_found()
        return 200, {"Content-Type": "application/json"}, json.dumps(body, ensure_ascii=False)

    with responses.RequestsMock() as upstream:
        upstream.add_callback(responses.POST, BAICHUAN_URL, callback=answer)
        assert drain(stack) == 1
    status, _, body = call_api(status_event(created["upload_id"]))
    assert status == 200
    assert body["status"] == "done"
    assert [(r["code"], r["status"]) for r in body["results"]] == [
        ("6901234567892", "found"),
        ("4006381333931", "not_found"),
    ]
    assert body["results"][0]["product"]["name"] == "绿茶"
    assert body["counts"] == {"total": 2, "found": 1, "not_found": 1, "invalid_gtin": 0, "error": 0}
