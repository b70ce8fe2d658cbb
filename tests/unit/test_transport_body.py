"""Transport plumbing: bodies within a deadline and a size limit, Retry-After, HTML sniffing."""

from __future__ import annotations

import gzip
import io

import pytest
import requests
import responses
from urllib3 import HTTPResponse
from urllib3.exceptions import (
    DecodeError,
    ProtocolError,
    ReadTimeoutError,
)

from barcode_service.transport import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    attempt_deadline,
    looks_like_html,
    new_session,
    read_body,
    retry_after_seconds,
)
from tests.support.transport_fakes import (
    FakeTime,
)

# --- read_body: the body within a deadline and a size limit ---------------------------


class DripRaw:
    """A raw body with only read(): one chunk per call, each taking `step` fake seconds."""

    def __init__(self, chunks: list[bytes], time: FakeTime, step: float = 0.0) -> None:
        self.chunks = list(chunks)
        self.time = time
        self.step = step
        self.reads: list[int] = []

    def read(self, amount: int) -> bytes:
        self.reads.append(amount)
        self.time.now += self.step
        return self.chunks.pop(0) if self.chunks else b""


class FailingRaw:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def read1(self, amount: int) -> bytes:
        raise self.error


def streamed(raw: object) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.raw = raw
    return response


def urllib3_body(data: bytes, headers: dict[str, str] | None = None) -> HTTPResponse:
    return HTTPResponse(body=io.BytesIO(data), headers=headers, status=200, preload_content=False)


def test_read_body_reads_a_whole_body_in_chunks_and_keeps_it_as_content() -> None:
    data = bytes(range(256)) * 100  # several 8 KiB chunks
    response = streamed(urllib3_body(data))
    assert read_body(response, deadline=float("inf")) == data
    assert response.content == data


def test_read_body_decodes_a_compressed_body() -> None:
    data = '{"msg": "查询成功"}'.encode()
    raw = urllib3_body(gzip.compress(data), {"Content-Encoding": "gzip"})
    assert read_body(streamed(raw), deadline=float("inf")) == data


def test_read_body_reads_an_empty_body() -> None:
    response = streamed(urllib3_body(b""))
    assert read_body(response, deadline=float("inf")) == b""
    assert response.text == ""


def test_read_body_uses_read_when_the_raw_body_has_no_read1() -> None:
    time = FakeTime()
    raw = DripRaw([b"ab", b"c"], time)
    assert read_body(streamed(raw), time.now + 1, clock=time.clock) == b"abc"
    assert raw.reads == [8192, 8192, 8192]


def test_read_body_stops_a_dripping_body_at_the_deadline() -> None:
    time = FakeTime()
    raw = DripRaw([b"x"] * 1000, time, step=0.15)
    with pytest.raises(requests.ReadTimeout, match="deadline"):
        read_body(streamed(raw), time.now + 1.2, clock=time.clock)
    assert len(raw.reads) == 8  # 8 x 0.15 s = 1.2 s: no read starts past the deadline
    assert time.now == pytest.approx(101.2)


def test_read_body_does_not_start_reading_past_the_deadline() -> None:
    time = FakeTime()
    raw = DripRaw([b"x"], time)
    with pytest.raises(requests.Timeout):
        read_body(streamed(raw), time.now, clock=time.clock)
    assert raw.reads == []


def test_read_body_accepts_a_body_of_exactly_the_limit() -> None:
    response = streamed(urllib3_body(b"x" * 10))
    assert read_body(response, deadline=float("inf"), limit=10) == b"x" * 10


def test_read_body_refuses_a_body_over_the_limit() -> None:
    time = FakeTime()
    raw = DripRaw([b"x" * 6, b"x" * 6, b"x" * 6], time)
    with pytest.raises(BodyTooLarge, match="over 10 bytes"):
        read_body(streamed(raw), time.now + 1, limit=10, clock=time.clock)
    assert len(raw.reads) == 2  # stops at the first chunk over the limit


def test_read_body_default_limit_is_a_megabyte() -> None:
    assert MAX_BODY_BYTES == 1_000_000
    with pytest.raises(BodyTooLarge):
        read_body(streamed(urllib3_body(b"x" * (MAX_BODY_BYTES + 1))), float("inf"))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ReadTimeoutError(None, None, "Read timed out."), requests.ReadTimeout),  # type: ignore[arg-type]
        (DecodeError("bad gzip"), requests.exceptions.ContentDecodingError),
        (ProtocolError("IncompleteRead"), requests.ConnectionError),
        (ConnectionResetError("reset"), requests.ConnectionError),
    ],
    ids=["read-timeout", "decode", "protocol", "reset"],
)
def test_read_body_turns_low_level_errors_into_requests_errors(
    error: Exception, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as info:
        read_body(streamed(FailingRaw(error)), float("inf"))
    assert type(info.value) is expected


@responses.activate
def test_read_body_reads_a_streamed_responses_body() -> None:
    responses.get("https://example.com/data", body=b'{"ok": true}')
    with new_session().get("https://example.com/data", timeout=1, stream=True) as response:
        assert read_body(response, deadline=float("inf")) == b'{"ok": true}'
        assert response.json() == {"ok": True}


def test_attempt_deadline_is_the_read_budget_from_now() -> None:
    time = FakeTime()
    assert attempt_deadline((0.5, 6.0), clock=time.clock) == time.now + 6.0


# --- Retry-After parsing and HTML sniffing -----------------------------------------------


def _response(headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0.5", 0.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
        ("", None),
        ("inf", None),
        ("nan", None),
    ],
)
def test_retry_after_seconds(value: str, expected: float | None) -> None:
    assert retry_after_seconds(_response({"Retry-After": value})) == expected


def test_retry_after_seconds_without_header() -> None:
    assert retry_after_seconds(_response({})) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!DOCTYPE html><html><body>502</body></html>", True),
        ("  \n<html><head></head></html>", True),
        ("<HTML>", True),
        ("<head><title>x</title></head><body>", True),
        ('{"code": 0}', False),
        ("EEAN13-1: Data length invalid. (Length must be 12 or 13)", False),
        ("", False),
    ],
)
def test_looks_like_html(text: str, expected: bool) -> None:
    assert looks_like_html(text) is expected
