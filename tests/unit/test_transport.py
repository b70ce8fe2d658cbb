"""Transport plumbing: session, User-Agent, the retry loop and its deadline, redaction."""

from __future__ import annotations

import gzip
import io
import logging
from collections.abc import Callable

import pytest
import requests
import responses
from urllib3 import HTTPResponse
from urllib3.exceptions import (
    DecodeError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from barcode_service import PROJECT_NAME, __version__
from barcode_service.errors import (
    InvalidParameter,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from barcode_service.redaction import redact
from barcode_service.transport import (
    MAX_BODY_BYTES,
    USER_AGENT,
    BodyTooLarge,
    Retryable,
    RetryPolicy,
    attempt_deadline,
    looks_like_html,
    new_session,
    read_body,
    retry_after_seconds,
    with_retries,
)

SECRET = "gg-appkey-SECRET-1111"


class FakeTime:
    """A clock that only moves when told to (or when slept on)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(
    times: int,
    error: Callable[[], Retryable | Exception],
    *,
    result: str = "ok",
    time: FakeTime | None = None,
    step: float = 0.0,
) -> tuple[Callable[[tuple[float, float]], str], list[tuple[float, float]]]:
    """An attempt that fails `times` times, then returns `result`; records each timeout."""
    timeouts: list[tuple[float, float]] = []

    def attempt(timeout: tuple[float, float]) -> str:
        timeouts.append(timeout)
        if time is not None:
            time.now += step
        if len(timeouts) <= times:
            raise error()
        return result

    return attempt, timeouts


def unavailable() -> Retryable:
    return Retryable(UpstreamUnavailable("down"))


# --- session and User-Agent ---------------------------------------------------


def test_user_agent_names_project_and_version() -> None:
    assert USER_AGENT.startswith(f"{PROJECT_NAME}/{__version__} ")
    assert PROJECT_NAME == "barcode-backend"


def test_new_session_sends_the_user_agent_and_never_retries_by_itself() -> None:
    session = new_session()
    assert session.headers["User-Agent"] == USER_AGENT
    for prefix in ("https://", "http://"):
        adapter = session.get_adapter(prefix + "example.com")
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        assert adapter.max_retries.total == 0


@responses.activate
def test_user_agent_goes_out_on_the_wire() -> None:
    responses.get("https://example.com/ping", body="pong")
    new_session().get("https://example.com/ping", timeout=1)
    assert responses.calls[0].request.headers["User-Agent"] == USER_AGENT


# --- with_retries -----------------------------------------------------------------


def test_success_on_first_attempt_does_not_sleep() -> None:
    time = FakeTime()
    attempt, timeouts = failing(0, unavailable)
    assert with_retries(attempt, RetryPolicy(), sleep=time.sleep, clock=time.clock) == "ok"
    assert len(timeouts) == 1
    assert time.sleeps == []


def test_first_timeout_is_the_policy_timeouts() -> None:
    time = FakeTime()
    attempt, timeouts = failing(0, unavailable)
    policy = RetryPolicy(connect_timeout=2.5, read_timeout=6.0, deadline=15.0)
    with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    assert timeouts == [(2.5, 6.0)]


def test_retryable_failures_are_retried_until_success() -> None:
    time = FakeTime()
    attempt, timeouts = failing(2, unavailable)
    result = with_retries(attempt, RetryPolicy(backoff=0), sleep=time.sleep, clock=time.clock)
    assert result == "ok"
    assert len(timeouts) == 3
    assert time.sleeps == [0.0, 0.0]


@pytest.mark.parametrize("attempts", [1, 2, 3, 5])
def test_retries_stop_after_policy_attempts(attempts: int) -> None:
    time = FakeTime()
    attempt, timeouts = failing(99, unavailable)
    policy = RetryPolicy(attempts=attempts, backoff=0)
    with pytest.raises(UpstreamUnavailable, match="down"):
        with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    assert len(timeouts) == attempts
    assert len(time.sleeps) == attempts - 1


def test_final_error_is_the_wrapped_error_itself() -> None:
    error = UpstreamRateLimited("slow down")
    time = FakeTime()
    attempt, _ = failing(99, lambda: Retryable(error))
    with pytest.raises(UpstreamRateLimited) as info:
        with_retries(attempt, RetryPolicy(backoff=0), sleep=time.sleep, clock=time.clock)
    assert info.value is error
    assert info.value.__cause__ is None


def test_a_final_error_is_not_retried() -> None:
    time = FakeTime()
    attempt, timeouts = failing(99, lambda: InvalidParameter("nope"))
    with pytest.raises(InvalidParameter):
        with_retries(attempt, RetryPolicy(backoff=0), sleep=time.sleep, clock=time.clock)
    assert len(timeouts) == 1
    assert time.sleeps == []


def test_an_unexpected_exception_propagates_untouched() -> None:
    time = FakeTime()
    attempt, timeouts = failing(99, lambda: KeyError("bug"))
    with pytest.raises(KeyError):
        with_retries(attempt, RetryPolicy(backoff=0), sleep=time.sleep, clock=time.clock)
    assert len(timeouts) == 1


def test_deadline_stops_retries_early() -> None:
    time = FakeTime()
    # Each attempt takes 4 s; the next one would start past the 10 s budget.
    attempt, timeouts = failing(99, unavailable, time=time, step=4.0)
    policy = RetryPolicy(attempts=5, backoff=0, deadline=10.0, connect_timeout=3.0)
    with pytest.raises(UpstreamUnavailable):
        with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    # t=4 after the first: 4 + 0 + 3 <= 10, retry; t=8 after the second: 8 + 3 > 10, stop.
    assert len(timeouts) == 2
    assert time.sleeps == [0.0]


def test_deadline_counts_the_backoff_delay() -> None:
    time = FakeTime()
    attempt, timeouts = failing(99, lambda: Retryable(UpstreamRateLimited("x"), retry_after=2.0))
    policy = RetryPolicy(attempts=5, backoff=0, max_backoff=2.0, deadline=4.0, connect_timeout=1)
    with pytest.raises(UpstreamRateLimited):
        with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    # 0 + 2 + 1 <= 4: one sleep of 2 s; then 2 + 2 + 1 > 4: give up.
    assert len(timeouts) == 2
    assert time.sleeps == [2.0]


def test_timeouts_shrink_to_the_remaining_budget() -> None:
    time = FakeTime()
    attempt, timeouts = failing(1, unavailable, time=time, step=6.0)
    policy = RetryPolicy(backoff=0, deadline=10.0, connect_timeout=3.0, read_timeout=8.0)
    with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    assert timeouts == [(3.0, 8.0), (3.0, 4.0)]


def test_retry_after_is_honoured() -> None:
    time = FakeTime()
    attempt, _ = failing(1, lambda: Retryable(UpstreamRateLimited("x"), retry_after=1.5))
    with_retries(attempt, RetryPolicy(backoff=0), sleep=time.sleep, clock=time.clock)
    assert time.sleeps == [1.5]


def test_retry_after_is_capped_at_max_backoff() -> None:
    time = FakeTime()
    attempt, _ = failing(1, lambda: Retryable(UpstreamRateLimited("x"), retry_after=120.0))
    policy = RetryPolicy(backoff=0, max_backoff=2.0)
    with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    assert time.sleeps == [2.0]


def test_upstream_retry_after_reaches_the_final_error() -> None:
    time = FakeTime()
    attempt, _ = failing(99, lambda: Retryable(UpstreamRateLimited("x"), retry_after=42.2))
    with pytest.raises(UpstreamRateLimited) as info:
        with_retries(attempt, RetryPolicy(backoff=0), sleep=time.sleep, clock=time.clock)
    assert info.value.retry_after == 43


def test_a_short_upstream_retry_after_does_not_lower_the_default() -> None:
    time = FakeTime()
    attempt, _ = failing(99, lambda: Retryable(UpstreamUnavailable("x"), retry_after=2.0))
    with pytest.raises(UpstreamUnavailable) as info:
        with_retries(attempt, RetryPolicy(attempts=1), sleep=time.sleep, clock=time.clock)
    assert info.value.retry_after == 30


def test_backoff_is_exponential_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    caps: list[tuple[float, float]] = []

    def top_of_range(low: float, high: float) -> float:
        caps.append((low, high))
        return high

    monkeypatch.setattr("barcode_service.transport.random.uniform", top_of_range)
    time = FakeTime()
    attempt, _ = failing(99, unavailable)
    policy = RetryPolicy(attempts=5, backoff=0.5, max_backoff=1.5, deadline=100.0)
    with pytest.raises(UpstreamUnavailable):
        with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    assert caps == [(0, 0.5), (0, 1.0), (0, 1.5), (0, 1.5)]
    assert time.sleeps == [0.5, 1.0, 1.5, 1.5]


def test_jitter_stays_within_the_cap() -> None:
    time = FakeTime()
    attempt, _ = failing(99, unavailable)
    policy = RetryPolicy(attempts=5, backoff=0.2, max_backoff=0.3, deadline=100.0)
    with pytest.raises(UpstreamUnavailable):
        with_retries(attempt, policy, sleep=time.sleep, clock=time.clock)
    assert len(time.sleeps) == 4
    assert all(0.0 <= delay <= 0.3 for delay in time.sleeps)


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


# --- redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"/barcode/barcode?appkey={SECRET}&type=EAN13",
        f"appkey={SECRET}",
        f"APPKEY={SECRET}",
        f"appKey={SECRET}&x=1",
        f"api_key={SECRET}&secret_key={SECRET}&code_sn=690",
        f'{{"appkey": "{SECRET}", "type": "EAN13"}}',
        f"{{'api_key': '{SECRET}'}}",
        f"secret_key: {SECRET}",
        f"apikey={SECRET}",
    ],
)
def test_redact_blanks_credential_values(text: str) -> None:
    redacted = redact(text)
    assert SECRET not in redacted
    assert "***" in redacted


def test_redact_keeps_everything_else() -> None:
    text = f"GET /barcode/barcode?appkey={SECRET}&type=EAN13&content=690123 HTTP/1.1"
    assert redact(text) == "GET /barcode/barcode?appkey=***&type=EAN13&content=690123 HTTP/1.1"
    assert redact("nothing secret here") == "nothing secret here"


def test_redact_also_scrubs_known_values_anywhere() -> None:
    text = f"APPKEY {SECRET} 无效 (key {SECRET})"
    redacted = redact(text, (SECRET, ""))
    assert SECRET not in redacted
    assert redacted == "APPKEY *** 无效 (key ***)"


# --- urllib3 log redaction -----------------------------------------------------------------

REQUEST_LINE = '%s://%s:%s "%s %s %s" %s %s'


def _secret_free(caplog: pytest.LogCaptureFixture) -> str:
    text = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert SECRET not in text
    return text


def test_urllib3_request_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(
        REQUEST_LINE,
        "https",
        "api.gugudata.com",
        443,
        "GET",
        f"/barcode/barcode?appkey={SECRET}&type=EAN13",
        "HTTP/1.1",
        200,
        123,
    )
    text = _secret_free(caplog)
    assert '"GET /barcode/barcode?appkey=***&type=EAN13 HTTP/1.1" 200 123' in text


def test_urllib3_warnings_with_urls_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"https://api.gugudata.com/barcode/barcode?appkey={SECRET}"
    logging.getLogger("urllib3.connection").warning(
        "Failed to parse headers (url=%s): %s", url, "x"
    )
    logging.getLogger("urllib3.connectionpool").warning(
        "Retrying (%r) after connection broken by '%r': %s", "Retry(total=1)", "boom", url
    )
    text = _secret_free(caplog)
    assert text.count("appkey=***") >= 2


def test_urllib3_retry_log_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    error = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    retry = Retry(total=2).increment("GET", f"/api/api_query.php?api_key={SECRET}", error=error)
    with pytest.raises(MaxRetryError):
        Retry(total=0).increment("GET", f"/x?appkey={SECRET}", error=error)
    assert retry.total == 1
    text = _secret_free(caplog)
    assert "Incremented Retry for (url='/api/api_query.php?api_key=***')" in text


def test_mapping_args_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug("url %(url)s", {"url": f"?appkey={SECRET}"})
    assert "url ?appkey=***" in _secret_free(caplog)


def test_a_broken_log_call_is_still_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(f"?appkey={SECRET} %d", "not a number")
    assert "?appkey=*** %d" in _secret_free(caplog)
