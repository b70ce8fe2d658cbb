"""The upload worker against moto (S3, SQS, DynamoDB) and a mocked lookup upstream."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
import responses
import zint
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from PIL import Image

from barcode_service.baichuan import MSG_DAILY_USED_UP, MSG_PLAN_USED_UP
from barcode_service.gtin import check_digit
from barcode_service.lookup import LookupService, build_lookup_service
from barcode_service.settings import Settings, load_settings
from barcode_service.uploads.jobs import DynamoJobStore, Job
from barcode_service.uploads.pacing import Pacer
from barcode_service.uploads.results import ResultRow, results_csv, tally
from barcode_service.uploads.status import status_view
from barcode_service.uploads.worker import NO_BARCODE, UploadWorker
from tests.conftest import TABLE, FakeContext, load_event
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


@pytest.fixture
def env(table: str, secret: dict, monkeypatch: pytest.MonkeyPatch) -> Env:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="uploads")["QueueUrl"]
    monkeypatch.setenv("UPLOADS_BUCKET", BUCKET)
    monkeypatch.setenv("UPLOADS_QUEUE_URL", queue_url)
    settings = load_settings()
    jobs = DynamoJobStore(TABLE, boto3.client("dynamodb"), ttl_seconds=3600)
    return Env(s3, sqs, queue_url, jobs, settings)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as requests_mock:
        yield requests_mock


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
    settings = dataclasses.replace(env.settings, **overrides)
    real = build_lookup_service(settings)
    epoch: dict[str, Any] = {} if wall is None else {"clock": wall}
    lookups = LookupService(settings, real.store, real.router, sleep=lambda s: None, **epoch)
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
    worker.start_invocation(FakeContext())
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
    result = make_worker(env).handle(upload(env, "codes.csv", data))
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


def test_redelivery_is_processed_once(env: Env, mock: responses.RequestsMock) -> None:
    upstream = Upstream(mock, {FOUND})
    body = upload(env, "codes.txt", f"{FOUND}\n{MISSING}\n".encode())
    worker = make_worker(env)
    first = worker.handle(body)
    updated = env.job().updated_at
    second = worker.handle(body)
    assert second == first
    assert len(upstream.calls) == 2
    assert env.job().updated_at == updated
    # Even once the idempotency record is gone, the job record refuses a second run.
    dynamodb = boto3.client("dynamodb")
    for item in dynamodb.scan(TableName=TABLE)["Items"]:
        if item["pk"]["S"].startswith("IDEMPOTENCY#"):
            dynamodb.delete_item(TableName=TABLE, Key={"pk": item["pk"]})
    third = make_worker(env).handle(body)
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
    assert worker.handle(test_event) == {"ignored": "s3:TestEvent"}
    result = worker.handle(notification("uploads/../../etc/passwd", 10))
    assert result["objects"][0] == {"ignored": "uploads/../../etc/passwd"}
    removed = json.loads(notification(f"uploads/{UID}.csv", 10))
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert worker.handle(json.dumps(removed)) == {"objects": []}


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


def test_photo_is_decoded_and_looked_up(env: Env, mock: responses.RequestsMock) -> None:
    Upstream(mock, {FOUND})
    make_worker(env).handle(upload(env, "photo.jpg", zint_png(FOUND[:12])))
    job = env.job()
    assert job.status == "done"
    assert job.results is not None
    assert [(r["code"], r["format"], r["status"]) for r in job.results] == [
        (FOUND, "EAN-13", "found")
    ]
    assert job.results_csv_key is None
    assert env.read_json(f"results/{UID}.json")["results"] == job.results


def test_photo_without_barcode_is_done_with_a_message(env: Env) -> None:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 60)).save(out, format="PNG")
    make_worker(env).handle(upload(env, "photo.png", out.getvalue()))
    job = env.job()
    assert job.status == "done"
    assert job.results == []
    assert job.message == NO_BARCODE


def test_qr_without_gtin_gets_a_row(env: Env) -> None:
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.outfile = "x.png"
    symbol.scale = 4
    symbol.output_options |= zint.OutputOptions.BARCODE_MEMORY_FILE
    symbol.encode("https://example.com/menu")
    symbol.print()
    make_worker(env).handle(upload(env, "photo.png", bytes(symbol.memfile)))
    job = env.job()
    assert job.results is not None
    row = job.results[0]
    assert row["status"] == "invalid_gtin"
    assert row["text"] == "https://example.com/menu"
    assert "holds no GTIN" in row["error"]["detail"]


def test_list_in_chunks_completes_in_order(env: Env, mock: responses.RequestsMock) -> None:
    codes = [gtin13(n) for n in range(25)]
    upstream = Upstream(mock, set(codes[::2]))
    worker = make_worker(env, upload_chunk_size=10, upload_inline_results=5)
    result = worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
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


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1.0  # every look at the clock costs a second
        return self.now


def test_chunk_out_of_time_continues_in_a_new_message(
    env: Env, mock: responses.RequestsMock
) -> None:
    codes = [gtin13(n) for n in range(12)]
    Upstream(mock, set(codes))
    worker = make_worker(
        env, clock=Clock(), worker_time_margin_seconds=0, worker_lookups_per_second=1000
    )
    worker.start_invocation(FakeContext())  # 25 s left, each row "takes" a few seconds
    worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
    assert env.job().status == "processing"
    bodies = [json.loads(m["Body"]) for m in env.messages()]
    assert bodies[0]["kind"] == "chunk"
    assert bodies[0]["start"] > 0
    for body in bodies:
        worker.handle(json.dumps(body))
    worker.start_invocation(FakeContext())
    drain(env, worker)
    job = env.job()
    assert job.status == "done"
    assert [r["code"] for r in job.results or []] == codes


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


def test_chunk_of_a_finished_run_is_skipped(env: Env) -> None:
    worker = make_worker(env)
    body = json.dumps({"kind": "chunk", "upload_id": UID, "run": "gone", "chunk": 0})
    assert worker.handle(body)["skipped"] == "run is over"


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
    pacer.wait()
    now[0] = 0.1  # the upstream call took 100 ms: the next may start at 0.25, not 0.35
    pacer.spent()
    pacer.wait()
    assert slept == [pytest.approx(0.15)]
    now[0] = 10.0
    pacer.wait()
    assert slept == [pytest.approx(0.15)]


def test_pacer_keeps_its_schedule_after_a_slightly_late_call_only() -> None:
    now = [100.0]
    slept: list[float] = []
    pacer = Pacer(4, clock=lambda: now[0], sleep=slept.append)
    pacer.wait()
    pacer.spent()  # next at 100.25
    now[0] = 100.45  # starved: started 0.2 s late
    pacer.wait()
    pacer.spent()  # the schedule holds: next at 100.5, not 100.7
    pacer.wait()
    assert slept == [pytest.approx(0.05)]
    pacer.spent()  # next at 100.75
    now[0] = 110.0  # a pause, not lateness
    pacer.wait()
    pacer.spent()
    pacer.wait()  # no burst after it: a full interval
    assert slept == [pytest.approx(0.05), pytest.approx(0.25)]


def test_results_csv_and_tally() -> None:
    rows = [
        ResultRow.from_dict(row)
        for row in [
            {"row": 1, "code": "+1", "status": "invalid_gtin", "error": {"code": "invalid_gtin"}},
            {"row": 2, "code": "x", "status": "found", "product": {"gtin": "1", "name": "@n"}},
        ]
    ]
    text = results_csv(rows).decode("utf-8-sig")
    assert "'+1" in text
    assert "'@n" in text
    assert tally(rows) == {"total": 2, "found": 1, "not_found": 0, "invalid_gtin": 1, "error": 0}


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


def test_quota_used_up_mid_list_waits_for_the_reset(
    env: Env, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [gtin13(n) for n in range(6)]
    upstream = Upstream(mock, set(codes))
    upstream.quota = 2
    wall = Wall()
    sent = record_sends(env, monkeypatch)
    worker = make_worker(env, wall=wall)
    result = worker.handle(upload(env, "codes.txt", "\n".join(codes).encode()))
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
    again = worker.handle(entry["MessageBody"])
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
    result = worker.handle(upload(env, "codes.txt", f"{FOUND}\n".encode()))
    assert result["objects"][0]["skipped"] == "run is over"
    assert sent == []
