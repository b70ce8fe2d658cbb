"""Transport plumbing: session, User-Agent, the retry loop and its deadline."""

from __future__ import annotations

import pytest
import requests
import responses

from barcode_service import PROJECT_NAME, __version__
from barcode_service.errors import (
    InvalidParameter,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from barcode_service.transport import (
    USER_AGENT,
    Retryable,
    RetryPolicy,
    new_session,
    with_retries,
)
from tests.support.transport_fakes import (
    FakeTime,
    failing,
    unavailable,
)

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
