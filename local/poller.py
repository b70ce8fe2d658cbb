"""Lambda's SQS event source mapping, locally: poll a queue, invoke, settle the batch.

For every `Type: SQS` event of a function, a thread long-polls the local queue, hands
the function a batch event in the shape AWS sends, and then does what the event source
mapping does with the answer: delete the messages that succeeded, and leave the failed
ones (all of them if the function raised, only the `batchItemFailures` ones when the
event has `FunctionResponseTypes: [ReportBatchItemFailures]`) to become visible again.
moto counts receives and moves a message to the dead-letter queue after the queue's
`maxReceiveCount`, like SQS.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from .lambdas import FunctionSpec, LocalFunction
from .template import Resolver

log = logging.getLogger("local.poller")

MAX_RECEIVE = 10  # SQS's per-call limit
LONG_POLL_SECONDS = 1


@dataclass(frozen=True)
class SqsSource:
    """One `Type: SQS` event: which function reads which queue, and how."""

    function: str
    event_name: str
    queue_arn: str
    queue_url: str
    batch_size: int = 10
    report_failures: bool = False


def sqs_sources(
    resolver: Resolver, specs: Mapping[str, FunctionSpec], queue_urls: Mapping[str, str]
) -> list[SqsSource]:
    """The SQS event sources of the functions; `queue_urls` maps queue ARN -> local URL."""
    sources: list[SqsSource] = []
    for spec in specs.values():
        for event_name, event in spec.events.items():
            if not isinstance(event, dict) or event.get("Type") != "SQS":
                continue
            props = resolver.resolve(event.get("Properties") or {}) or {}
            if str(props.get("Enabled", True)).lower() == "false":
                continue
            arn = str(props.get("Queue") or "")
            url = queue_urls.get(arn)
            if not url:
                resolver.warn(f"{spec.logical_id}.{event_name}: queue {arn!r} is not local")
                continue
            if props.get("FilterCriteria"):
                resolver.warn(f"{spec.logical_id}.{event_name}: FilterCriteria is not emulated")
            sources.append(
                SqsSource(
                    function=spec.logical_id,
                    event_name=event_name,
                    queue_arn=arn,
                    queue_url=url,
                    batch_size=max(1, int(props.get("BatchSize") or 10)),
                    report_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                )
            )
    return sources


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as a record of Lambda's SQS event."""
    attributes: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        binary = value.get("BinaryValue")
        attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode("ascii") if binary else None,
            "stringListValues": list(value.get("StringListValues") or []),
            "binaryListValues": [
                base64.b64encode(item).decode("ascii")
                for item in value.get("BinaryListValues") or []
            ],
            "dataType": value.get("DataType", "String"),
        }
        attributes[name] = {k: v for k, v in attributes[name].items() if v is not None}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(response: Any, message_ids: list[str], *, report_failures: bool) -> set[str]:
    """Which messages of a batch failed, judged the way the event source mapping does."""
    if not report_failures:
        return set()
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return set()
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in message_ids:
            # AWS treats a malformed failure report as a failure of the whole batch.
            log.warning("batchItemFailures names an unknown message; the whole batch failed")
            return set(message_ids)
        failed.add(str(identifier))
    return failed


class QueuePoller(threading.Thread):
    """Feeds one queue to one function until `stop` is set."""

    def __init__(
        self,
        source: SqsSource,
        function: LocalFunction,
        stop: threading.Event,
        *,
        region: str,
        retry_seconds: int | None = None,
    ) -> None:
        super().__init__(name=f"sqs-{source.function}-{source.event_name}", daemon=True)
        self.source = source
        self.function = function
        self.stop = stop
        self.region = region
        self.retry_seconds = retry_seconds
        self.sqs = boto3.client("sqs", region_name=region)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if self.stop.is_set():
                    break  # moto is going away during shutdown
                log.exception("polling %s failed; retrying", self.source.queue_url)
                self.stop.wait(1)

    def receive(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages: a long poll, then whatever is already waiting."""
        messages: list[dict[str, Any]] = []
        wait = LONG_POLL_SECONDS
        while len(messages) < self.source.batch_size and not self.stop.is_set():
            answer = self.sqs.receive_message(
                QueueUrl=self.source.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, self.source.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = answer.get("Messages") or []
            if not received:
                break
            messages.extend(received)
            wait = 0
        return messages

    def poll_once(self) -> int:
        """Receive one batch, invoke the function, settle; the number of messages handled."""
        messages = self.receive()
        if not messages:
            return 0
        records = [lambda_record(m, self.source.queue_arn, self.region) for m in messages]
        ids = [r["messageId"] for r in records]
        try:
            response = self.function.invoke({"Records": records})
        except Exception:
            log.exception("%s failed on a batch of %d", self.source.function, len(records))
            failed = set(ids)
        else:
            failed = failed_message_ids(response, ids, report_failures=self.source.report_failures)
        self.settle(records, failed)
        return len(records)

    def settle(self, records: list[dict[str, Any]], failed: set[str]) -> None:
        """Delete the successes; make failures visible again after the retry delay."""
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), MAX_RECEIVE):
            chunk = done[start : start + MAX_RECEIVE]
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )
        if failed:
            log.info("%d message(s) of the batch failed and will be retried", len(failed))
        if failed and self.retry_seconds is not None:
            # The template's visibility timeout (minutes) makes retries slow locally.
            for record in records:
                if record["messageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.source.queue_url,
                        ReceiptHandle=record["receiptHandle"],
                        VisibilityTimeout=self.retry_seconds,
                    )
