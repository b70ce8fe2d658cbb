"""Builders for upload worker tests: moto S3/SQS/DynamoDB, a fake lookup provider, clocks."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
import zint
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from PIL import Image

from barcode_service.gtin import check_digit
from barcode_service.providers.baichuan import MSG_DAILY_USED_UP
from barcode_service.settings import Settings
from barcode_service.uploads.jobs import DynamoJobStore, Job
from barcode_service.uploads.worker import UploadWorker
from barcode_service.wiring import build_lookup_service
from local.context import LambdaContext
from tests.conftest import TABLE, load_event
from tests.support.lookups import on_clock
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_failure,
    baichuan_found,
    baichuan_not_found,
)

BUCKET = "test-uploads"
UID = "0123456789abcdef0123456789abcdef"


def gtin13(n: int, prefix: str = "690") -> str:
    payload = f"{prefix}{n:0{12 - len(prefix)}d}"
    return payload + str(check_digit(payload))


class Upstream:
    """The lookup upstream: codes in `known` are found, others not; counts calls per code."""

    def __init__(self, mock: responses.RequestsMock, known: set[str]) -> None:
        self.known = known
        self.calls: list[str] = []
        self.failing: set[str] = set()
        self.quota: int | None = None  # calls answered before every call gets `refusal`
        self.refusal = MSG_DAILY_USED_UP
        mock.add_callback(responses.POST, BAICHUAN_URL, callback=self)

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        code = parse_qs(str(request.body))["code_sn"][0]
        self.calls.append(code)
        if code in self.failing:
            return 502, {}, "bad gateway"
        if self.quota is not None:
            if self.quota <= 0:
                refused = json.dumps(baichuan_failure(self.refusal), ensure_ascii=False)
                return 200, {"Content-Type": "application/json"}, refused
            self.quota -= 1
        body = (
            baichuan_found(code, f"Product {code}") if code in self.known else baichuan_not_found()
        )
        return 200, {"Content-Type": "application/json"}, json.dumps(body, ensure_ascii=False)


@dataclass
class Env:
    s3: Any
    sqs: Any
    queue_url: str
    jobs: DynamoJobStore
    settings: Settings

    def put(self, key: str, body: bytes) -> dict[str, Any]:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return self.s3.head_object(Bucket=BUCKET, Key=key)

    def read_json(self, key: str) -> Any:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def read(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return body

    def messages(self) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        return list(answer.get("Messages", []))

    def job(self, upload_id: str = UID) -> Job:
        job = self.jobs.get(upload_id)
        assert job is not None
        return job


class Sleeps:
    """A fake time: sleeping advances the clock instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.now = 1000.0

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def make_worker(
    env: Env,
    *,
    sleep: Sleeps | None = None,
    clock: Any = None,
    wall: Any = None,
    **overrides: Any,
) -> UploadWorker:
    """A worker on moto; `wall` is the epoch clock of the lookups and of waiting."""
    overrides.setdefault("worker_time_margin_seconds", 0)
    # One lookup at a time unless a test asks: fake clocks and sleeps see the rows in order.
    overrides.setdefault("worker_lookup_concurrency", 1)
    settings = dataclasses.replace(env.settings, **overrides)
    real = build_lookup_service(settings)
    epoch: dict[str, Any] = {} if wall is None else {"clock": wall}
    lookups = on_clock(real, **epoch)
    persistence = DynamoDBPersistenceLayer(
        table_name=TABLE, key_attr="pk", expiry_attr="expires_at"
    )
    extra: dict[str, Any] = {"sleep": sleep or Sleeps()}
    if clock is not None:
        extra["clock"] = clock
    if wall is not None:
        extra["wall_clock"] = wall
    worker = UploadWorker(
        settings,
        s3=env.s3,
        sqs=env.sqs,
        jobs=env.jobs,
        lookups=lookups,
        persistence=persistence,
        **extra,
    )
    worker.start_invocation(LambdaContext())
    return worker


def notification(key: str, size: int, *, etag: str = "e1", sequencer: str = "0A1") -> str:
    """An S3 ObjectCreated notification body shaped like the one in events/."""
    record = json.loads(load_event("sqs_s3_upload.json")["Records"][1]["body"])
    body = copy.deepcopy(record)
    s3 = body["Records"][0]["s3"]
    s3["bucket"]["name"] = BUCKET
    s3["object"].update({"key": key, "size": size, "eTag": etag, "sequencer": sequencer})
    return json.dumps(body)


def upload(env: Env, name: str, data: bytes, upload_id: str = UID, **kw: Any) -> str:
    """Create the job like the API does, store the object, return its notification."""
    ext = name.rsplit(".", 1)[1]
    kind = "image" if ext in ("jpg", "png", "webp") else "list"
    if env.jobs.get(upload_id) is None:
        env.jobs.create(upload_id, kind, name, "text/csv")
    key = f"uploads/{upload_id}.{ext}"
    env.put(key, data)
    return notification(key, len(data), **kw)


def drain(env: Env, worker: UploadWorker) -> int:
    """Feed queued messages back to the worker until the queue is empty."""
    handled = 0
    while messages := env.messages():
        for message in messages:
            worker.handle(message["Body"], int(message["Attributes"]["ApproximateReceiveCount"]))
            env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
    return handled


FOUND, MISSING = gtin13(1), gtin13(2)


def zint_png(data: str) -> bytes:
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.EANX
    symbol.outfile = "x.png"
    symbol.scale = 3
    symbol.output_options |= (
        zint.OutputOptions.BARCODE_MEMORY_FILE | zint.OutputOptions.BARCODE_QUIET_ZONES
    )
    symbol.encode(data)
    symbol.print()
    image = Image.open(io.BytesIO(bytes(symbol.memfile))).convert("RGB")
    scene = Image.new("RGB", (1200, 900), (200, 190, 170))
    scene.paste(image, (300, 300))
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=60)
    return out.getvalue()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1.0  # every look at the clock costs a second
        return self.now


# ---------------------------------------------------------------- upstream blocks

CHINA = timezone(timedelta(hours=8))
MORNING = datetime(2031, 3, 15, 10, 0, tzinfo=CHINA).timestamp()
RESET = datetime(2031, 3, 16, 0, 0, tzinfo=CHINA).timestamp()  # the daily quota's reset


class Wall:
    """An epoch clock that only moves when told to."""

    def __init__(self, now: float = MORNING) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def record_sends(env: Env, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every entry the worker sends to the queue (moto hides delayed ones from receive)."""
    sent: list[dict[str, Any]] = []
    real = env.sqs.send_message_batch

    def spy(**kwargs: Any) -> Any:
        sent.extend(kwargs["Entries"])
        return real(**kwargs)

    monkeypatch.setattr(env.sqs, "send_message_batch", spy)
    return sent


def delayed_messages(env: Env) -> int:
    attributes = env.sqs.get_queue_attributes(
        QueueUrl=env.queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"])
