"""The local SQS event source: batch events, partial failures, redrive to the DLQ."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.poller import QueuePoller, SqsSource, failed_message_ids, lambda_record

ROOT = Path(__file__).resolve().parents[2]

Handler = Callable[[dict[str, Any]], Any]


class FakeFunction:
    """Stands in for LocalFunction: records the events, answers with `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.handler(event)


@pytest.fixture
def queues(aws: None) -> tuple[str, str, str]:
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn, dlq


def poller(
    url: str, arn: str, handler: Handler, *, batch_size: int = 10, report: bool = True
) -> tuple[QueuePoller, FakeFunction]:
    function = FakeFunction(handler)
    source = SqsSource("Worker", "Jobs", arn, url, batch_size=batch_size, report_failures=report)
    instance = QueuePoller(
        source,
        function,  # type: ignore[arg-type]
        threading.Event(),
        region="us-east-1",
        retry_seconds=0,
    )
    return instance, function


def count(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_records_have_the_shape_lambda_sends(queues: tuple[str, str, str]) -> None:
    url, arn, _ = queues
    boto3.client("sqs").send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "chunk"}},
    )
    instance, function = poller(url, arn, lambda event: {"batchItemFailures": []})
    assert instance.poll_once() == 1
    (record,) = function.events[0]["Records"]
    assert set(record) >= {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "chunk",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert count(url) == 0  # succeeded, so deleted


def test_only_reported_failures_stay_and_then_go_to_the_dlq(
    queues: tuple[str, str, str],
) -> None:
    url, arn, dlq = queues
    sqs = boto3.client("sqs")
    for body in ("ok-1", "bad", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    instance, function = poller(url, arn, handler)
    assert instance.poll_once() == 3
    assert count(url) == 1
    assert instance.poll_once() == 1
    assert function.events[-1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    # A third receive exceeds maxReceiveCount: moto moves the message to the DLQ.
    assert instance.poll_once() == 0
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["bad"]


def test_an_exception_fails_the_whole_batch(queues: tuple[str, str, str]) -> None:
    url, arn, _ = queues
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")

    def handler(event: dict[str, Any]) -> None:
        raise RuntimeError("worker crashed")

    instance, _ = poller(url, arn, handler)
    assert instance.poll_once() == 2
    assert count(url) == 2


def test_batch_size_is_respected(queues: tuple[str, str, str]) -> None:
    url, arn, _ = queues
    sqs = boto3.client("sqs")
    for index in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    instance, function = poller(url, arn, lambda event: None, batch_size=2)
    assert instance.poll_once() == 2
    assert len(function.events[0]["Records"]) == 2
    assert count(url) == 3


def test_failure_reports_are_ignored_without_report_batch_item_failures(
    queues: tuple[str, str, str],
) -> None:
    url, arn, _ = queues
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="a")

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    instance, _ = poller(url, arn, handler, report=False)
    assert instance.poll_once() == 1
    assert count(url) == 0


def test_a_malformed_failure_report_fails_every_message() -> None:
    ids = ["m1", "m2"]
    assert failed_message_ids(None, ids, report_failures=True) == set()
    assert failed_message_ids({"batchItemFailures": []}, ids, report_failures=True) == set()
    assert failed_message_ids(
        {"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids, report_failures=True
    ) == {"m2"}
    assert failed_message_ids(
        {"batchItemFailures": [{"itemIdentifier": "other"}]}, ids, report_failures=True
    ) == {"m1", "m2"}
    assert failed_message_ids(
        {"batchItemFailures": [{"itemIdentifier": ""}]}, ids, report_failures=True
    ) == {"m1", "m2"}


def test_binary_message_attributes_are_base64() -> None:
    record = lambda_record(
        {
            "MessageId": "m",
            "ReceiptHandle": "r",
            "Body": "b",
            "MD5OfBody": "x",
            "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
        },
        "arn:aws:sqs:us-east-1:123456789012:q",
        "us-east-1",
    )
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="


def test_record_keys_match_the_recorded_sqs_event(queues: tuple[str, str, str]) -> None:
    url, arn, _ = queues
    recorded = json.loads((ROOT / "events" / "sqs_s3_upload.json").read_text(encoding="utf-8"))
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="{}")
    instance, function = poller(url, arn, lambda event: None)
    assert instance.poll_once() == 1
    (record,) = function.events[0]["Records"]
    assert set(record) == set(recorded["Records"][0])
    assert set(record["attributes"]) == set(recorded["Records"][0]["attributes"])
