"""10,000 codes through S3 -> SQS -> worker chunks -> results, with nothing lost.

Every row's code is a distinct string (the same GTIN written with dashes in different
places), so any lost, doubled or reordered row shows. Most GTINs are already cached,
as they are for a shop re-checking its catalogue; the rest go to the mocked upstream,
each exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
import responses

from barcode_service.cache import CachedLookup, DynamoLookupStore
from barcode_service.gtin import check_digit
from barcode_service.product import ProductFields
from functions.upload_worker import app as worker_app
from functions.uploads import app as uploads_app
from local.context import LambdaContext
from local.poller import lambda_record
from tests.conftest import TABLE, load_event
from tests.support.upstreams import BAICHUAN_URL, baichuan_found, baichuan_not_found

BUCKET = "test-uploads-scale"
ROWS = 10_000
VARIANTS = 5  # rows per GTIN
UPSTREAM_FOUND, UPSTREAM_MISSING = 40, 10


@pytest.fixture(autouse=True)
def _fresh_handlers() -> Iterator[None]:
    uploads_app.service.cache_clear()
    worker_app.worker.cache_clear()
    yield
    uploads_app.service.cache_clear()
    worker_app.worker.cache_clear()


def gtin13(n: int) -> str:
    payload = f"690{n:09d}"
    return payload + str(check_digit(payload))


def written(gtin: str, variant: int) -> str:
    """The same GTIN as people type it: plain, or with a dash somewhere."""
    return gtin if variant == 0 else f"{gtin[: variant * 2]}-{gtin[variant * 2 :]}"


def uploads_stack(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Bucket notifying a queue, like template.yaml; (queue url, queue arn)."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    s3.create_bucket(Bucket=BUCKET)
    queue_url = sqs.create_queue(QueueName="uploads")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    queue_arn = attributes["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    monkeypatch.setenv("UPLOADS_BUCKET", BUCKET)
    monkeypatch.setenv("UPLOADS_QUEUE_URL", queue_url)
    monkeypatch.setenv("WORKER_LOOKUPS_PER_SECOND", "1000")  # the mock has no rate limit
    return queue_url, queue_arn


def run_worker_until_idle(queue_url: str, queue_arn: str) -> int:
    """Lambda's SQS event source, by hand: batches of 10 until the queue is empty."""
    sqs = boto3.client("sqs")
    invocations = 0
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        invocations += 1
        event = {"Records": [lambda_record(m, queue_arn, "us-east-1") for m in messages]}
        assert worker_app.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return invocations


def read(key: str) -> bytes:
    body: bytes = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def test_ten_thousand_codes_in_chunks(
    table: str, secret: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_url, queue_arn = uploads_stack(monkeypatch)
    gtins = [gtin13(n) for n in range(ROWS // VARIANTS)]
    upstream_found = set(gtins[:UPSTREAM_FOUND])
    upstream_missing = set(gtins[UPSTREAM_FOUND : UPSTREAM_FOUND + UPSTREAM_MISSING])
    store = DynamoLookupStore(TABLE)
    for gtin in gtins[UPSTREAM_FOUND + UPSTREAM_MISSING :]:
        now = int(time.time())
        entry = CachedLookup("found", ProductFields(name=f"Cached {gtin}"), now, now + 86_400)
        store.put_result(gtin.zfill(14), entry, stale_grace=0)
    codes = [written(gtins[i // VARIANTS], i % VARIANTS) for i in range(ROWS)]
    for i in range(0, ROWS, 250):
        codes[i] = f"bad-{i}"  # rows that cannot be codes still get their row
    assert len(set(codes)) == ROWS

    response = uploads_app.lambda_handler(load_event("uploads_create.json"), LambdaContext())
    upload_id = json.loads(response["body"])["upload_id"]
    listing = ("barcode\r\n" + "\r\n".join(codes) + "\r\n").encode()
    boto3.client("s3").put_object(Bucket=BUCKET, Key=f"uploads/{upload_id}.csv", Body=listing)

    calls: list[str] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        code = parse_qs(str(request.body))["code_sn"][0]
        calls.append(code)
        assert code in upstream_found | upstream_missing, f"{code} should have been cached"
        body = baichuan_found(code) if code in upstream_found else baichuan_not_found()
        return 200, {"Content-Type": "application/json"}, json.dumps(body, ensure_ascii=False)

    with responses.RequestsMock() as upstream:
        upstream.add_callback(responses.POST, BAICHUAN_URL, callback=answer)
        invocations = run_worker_until_idle(queue_url, queue_arn)

    assert invocations >= 3  # test event + notification, then 20 chunks in batches of 10
    assert sorted(calls) == sorted(upstream_found | upstream_missing)  # each exactly once

    event = load_event("uploads_status.json")
    event.update(path=f"/uploads/{upload_id}", pathParameters={"id": upload_id})
    status = json.loads(uploads_app.lambda_handler(event, LambdaContext())["body"])
    assert status["status"] == "done"
    bad = ROWS // 250
    assert status["counts"] == {
        "total": ROWS,
        "found": ROWS - bad - UPSTREAM_MISSING * VARIANTS,
        "not_found": UPSTREAM_MISSING * VARIANTS,
        "invalid_gtin": bad,
        "error": 0,
    }
    assert "results" not in status
    assert status["results_url"].startswith("https://")

    rows = json.loads(read(f"results/{upload_id}.json"))["results"]
    assert [r["row"] for r in rows] == list(range(1, ROWS + 1))
    assert [r["code"] for r in rows] == codes
    assert [r["line"] for r in rows] == list(range(2, ROWS + 2))
    table_rows = list(csv.reader(io.StringIO(read(f"results/{upload_id}.csv").decode("utf-8-sig"))))
    assert len(table_rows) == ROWS + 1
    assert [line[2] for line in table_rows[1:]] == codes
