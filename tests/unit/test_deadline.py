"""Bounded work per request (issue 22, item 4): one deadline below the function's timeout.

Before, 100 distinct 4000 x 4000 QR codes in one batch answered after 26.5 s, past the
function's 25 s timeout (in AWS: a 504 for the whole batch). Now a batch answers the
rows done and a 503 `deadline_exceeded` row for each of the rest; a photo's further
codes likewise. Time is a fake clock that each render or lookup moves: no wall time.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from barcode_service import generate as generate_module
from barcode_service.deadline import MARGIN_SECONDS, REQUEST_SECONDS, Deadline, applying, current
from barcode_service.errors import DeadlineExceeded, NotFound
from barcode_service.generate import GenerateService
from barcode_service.gugudata import GeneratedImage
from barcode_service.lookup import LookupPolicy
from barcode_service.lookup_outcome import LookupOutcome
from barcode_service.scans import ScanService
from barcode_service.settings import load_settings
from barcode_service.storage import S3ImageStore
from barcode_service.url_cache import DynamoUrlCache
from local.context import LambdaContext
from tests.support.clocks import Clock
from tests.support.workers import gtin13

BUCKET = "test-images"


def qr(n: int) -> dict[str, Any]:
    return {"type": "qrcode", "content": f"item {n}", "width": 200, "height": 200}


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def clock() -> Clock:
    return Clock(100.0)


@pytest.fixture
def slow_renders(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[str]:
    """Every render takes one second of the fake clock."""
    rendered: list[str] = []
    real = generate_module.render_verified

    def render(request: Any) -> Any:
        rendered.append(request.content)
        clock.now += 1.0
        return real(request)

    monkeypatch.setattr(generate_module, "render_verified", render)
    return rendered


def service(s3: Any, mode: str = "local", upstream: Any = None) -> GenerateService:
    return GenerateService(
        mode=mode,  # type: ignore[arg-type]
        images=S3ImageStore(s3, BUCKET, base_url="https://img.example.com"),
        cache=DynamoUrlCache(None, "", 60),
        upstream=upstream,
    )


def test_a_batch_answers_the_rows_done_and_deadline_exceeded_for_the_rest(
    s3: Any, clock: Clock, slow_renders: list[str]
) -> None:
    items = [qr(n) for n in range(10)]
    items.insert(6, qr(1))  # a repeat of a row already made costs nothing: still answered
    outcomes = service(s3).generate_batch(items, until=Deadline(clock.now + 4.5, clock))
    rows = [outcome.to_dict(i) for i, outcome in enumerate(outcomes)]
    assert [row["status"] for row in rows] == [200] * 5 + [503, 200] + [503] * 4
    assert slow_renders == [f"item {n}" for n in range(5)]  # nothing rendered past it
    late = rows[5]["problem"]
    assert late["code"] == "deadline_exceeded"
    assert "send it again" in late["detail"]


def test_a_batch_within_its_deadline_is_whole(
    s3: Any, clock: Clock, slow_renders: list[str]
) -> None:
    outcomes = service(s3).generate_batch(
        [qr(n) for n in range(5)], until=Deadline(clock.now + 60, clock)
    )
    assert all(outcome.barcode is not None for outcome in outcomes)


def test_bad_rows_keep_their_own_problem_past_the_deadline(
    s3: Any, clock: Clock, slow_renders: list[str]
) -> None:
    outcomes = service(s3).generate_batch(
        [qr(0), {"type": "qrcode"}], until=Deadline(clock.now + 0.5, clock)
    )
    assert outcomes[0].barcode is not None
    assert outcomes[1].problem is not None
    assert outcomes[1].problem.code == "invalid_parameter"


class Upstream:
    def __init__(self) -> None:
        self.calls = 0

    def generate(self, **_: Any) -> GeneratedImage:
        self.calls += 1
        return GeneratedImage(url="https://cdn.example.com/u.png")


def test_no_upstream_call_that_could_outlast_the_request(
    s3: Any, clock: Clock, slow_renders: list[str]
) -> None:
    upstream = Upstream()
    ean = {"type": "ean13", "content": "6901234567892", "width": 300, "height": 150}
    made = service(s3, "auto", upstream)
    # 10 s left, an upstream call may take 15 s: rendered here instead.
    outcome = made.generate_batch([ean], until=Deadline(clock.now + 10, clock))[0]
    assert outcome.barcode is not None
    assert (outcome.barcode.backend, upstream.calls) == ("local", 0)
    # With time for it, the upstream is asked as before.
    outcome = made.generate_batch([ean], until=Deadline(clock.now + 20, clock))[0]
    assert outcome.barcode is not None
    assert (outcome.barcode.backend, upstream.calls) == ("upstream", 1)


def test_upstream_only_mode_says_not_done_rather_than_run_over(s3: Any, clock: Clock) -> None:
    ean = {"type": "ean13", "content": "6901234567892", "width": 300, "height": 150}
    upstream = Upstream()
    outcome = service(s3, "upstream", upstream).generate_batch(
        [ean], until=Deadline(clock.now + 10, clock)
    )[0]
    assert outcome.problem is not None
    assert outcome.problem.code == "deadline_exceeded"
    assert upstream.calls == 0


def test_a_single_render_past_the_deadline_is_a_503(s3: Any, clock: Clock) -> None:
    from barcode_service.barcode_request import parse_request

    with applying(Deadline(clock.now - 1, clock)), pytest.raises(DeadlineExceeded) as raised:
        service(s3).generate(parse_request(qr(1)))
    assert (raised.value.status, raised.value.retry_after) == (503, 1)


def test_the_request_deadline_is_below_the_function_timeout() -> None:
    clock = Clock(0.0)

    class Context:
        def __init__(self, remaining_ms: int) -> None:
            self.remaining_ms = remaining_ms

        def get_remaining_time_in_millis(self) -> int:
            return self.remaining_ms

    assert Deadline.for_invocation(Context(25_000), clock=clock).at == REQUEST_SECONDS
    assert Deadline.for_invocation(Context(10_000), clock=clock).at == 10 - MARGIN_SECONDS
    assert Deadline.for_invocation(Context(1_000), clock=clock).at == 0
    assert Deadline.for_invocation(None, clock=clock).at == REQUEST_SECONDS
    assert current().remaining() == float("inf")  # outside a request


def test_the_batch_handler_answers_within_the_functions_time(
    monkeypatch: pytest.MonkeyPatch, table: str, s3: Any
) -> None:
    from functions.generate import app
    from tests.conftest import load_event

    monkeypatch.setenv("GENERATE_BACKEND", "local")
    monkeypatch.setenv("IMAGES_BUCKET", BUCKET)
    app.service.cache_clear()
    event = load_event("generate_batch.json")
    event["body"] = json.dumps({"requests": [qr(n) for n in range(3)]})
    # A function left with no more than its margin: nothing is started, all is answered.
    context = LambdaContext(timeout_seconds=MARGIN_SECONDS)
    response = app.lambda_handler(event, context)
    app.service.cache_clear()
    assert response["statusCode"] == 200
    rows = json.loads(response["body"])["results"]
    assert [row["status"] for row in rows] == [503, 503, 503]
    assert {row["problem"]["code"] for row in rows} == {"deadline_exceeded"}


class Lookups:
    """A LookupService stand-in whose every lookup takes a second of the fake clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.looked_up: list[str] = []
        self.policy = LookupPolicy.from_settings(load_settings({}))

    def resolve(self, gtin: Any, **_: Any) -> LookupOutcome:
        self.clock.now += 1.0
        self.looked_up.append(gtin.code)
        return LookupOutcome(NotFound("no product"))


def test_a_photo_with_many_codes_looks_up_what_fits_and_says_so_for_the_rest(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    from barcode_service import decode
    from barcode_service.decode import DecodedCode

    codes = [DecodedCode(gtin13(n), "EAN-13", gtin13(n)) for n in range(6)]
    monkeypatch.setattr(decode, "load_photo", lambda data: object())
    monkeypatch.setattr(decode, "decode_photo", lambda photo: codes)
    lookups = Lookups(clock)
    scanner = ScanService(lookups, workers=1)  # type: ignore[arg-type]
    with applying(Deadline(clock.now + 2.5, clock)):
        report = scanner.scan_image(b"photo")
    statuses = [entry.status for entry in report.entries]
    assert len(statuses) == 6
    assert len(lookups.looked_up) == 3
    assert statuses == ["not_found"] * 3 + ["error"] * 3
    late = report.entries[5].error
    assert late is not None
    assert late["code"] == "deadline_exceeded"
