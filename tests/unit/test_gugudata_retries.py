"""GuGuData generation client: retries, deadlines, body limits, key rotation, defaults."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from responses import matchers

from barcode_service import transport
from barcode_service.errors import (
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from barcode_service.gugudata import GuGuDataClient, RequestMode
from barcode_service.transport import MAX_BODY_BYTES, USER_AGENT, RetryPolicy
from tests.support.gugudata_client import (
    ARGS,
    IMAGE,
    KEY,
    NEW_KEY,
    URL,
    Keys,
    client,
    pascal,
    query,
)

# --- retries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("connection refused"),
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
    ],
    ids=["connection-error", "connect-timeout", "read-timeout"],
)
@responses.activate
def test_transient_failures_are_retried(failure: Exception) -> None:
    responses.get(URL, body=failure)
    responses.get(URL, json=pascal())
    assert client().generate(**ARGS).url == IMAGE
    assert len(responses.calls) == 2


@responses.activate
def test_connection_errors_give_up_after_policy_attempts() -> None:
    responses.get(URL, body=requests.ConnectionError("refused"))
    with pytest.raises(UpstreamUnavailable, match="unreachable") as info:
        client(policy=RetryPolicy(attempts=4, backoff=0)).generate(**ARGS)
    assert type(info.value) is UpstreamUnavailable
    assert len(responses.calls) == 4


@responses.activate
def test_read_timeouts_give_up_as_upstream_timeout() -> None:
    responses.get(URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout) as info:
        client().generate(**ARGS)
    assert info.value.code == "upstream_timeout"
    assert len(responses.calls) == 3


@responses.activate
def test_a_body_still_arriving_at_the_deadline_is_a_retried_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deadlines = iter([0.0, float("inf")])  # the first attempt is long past its deadline
    monkeypatch.setattr(transport, "attempt_deadline", lambda timeout: next(deadlines))
    responses.get(URL, json=pascal())
    assert client().generate(**ARGS).url == IMAGE
    assert len(responses.calls) == 2


@responses.activate
def test_a_body_never_complete_in_time_gives_up_as_upstream_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport, "attempt_deadline", lambda timeout: 0.0)
    responses.get(URL, json=pascal())
    with pytest.raises(UpstreamTimeout):
        client().generate(**ARGS)
    assert len(responses.calls) == 3


@pytest.mark.parametrize("mode", ["get", "form", "multipart", "json"])
@responses.activate
def test_the_body_is_streamed_and_the_response_closed(
    monkeypatch: pytest.MonkeyPatch, mode: RequestMode
) -> None:
    responses.get(URL, json=pascal())
    responses.post(URL, json=pascal())
    gugu = client(mode)
    sent: list[tuple[requests.Response, dict[str, Any]]] = []

    def recording(send: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> requests.Response:
            response: requests.Response = send(*args, **kwargs)
            sent.append((response, kwargs))
            return response

        return wrapper

    # The one HTTP seam sends every request (GET or POST) through session.request.
    monkeypatch.setattr(gugu.session, "request", recording(gugu.session.request))
    assert gugu.generate(**ARGS).url == IMAGE
    [(response, kwargs)] = sent
    assert kwargs["stream"] is True
    assert response.raw.closed


@responses.activate
def test_a_body_over_the_size_limit_is_an_error_not_retried() -> None:
    responses.get(URL, body=b" " * (MAX_BODY_BYTES + 1))
    with pytest.raises(UpstreamError, match="too large") as info:
        client().generate(**ARGS)
    assert type(info.value) is UpstreamError
    assert len(responses.calls) == 1


@responses.activate
def test_5xx_then_success() -> None:
    responses.get(URL, status=503, body="busy")
    responses.get(URL, json=pascal())
    assert client().generate(**ARGS).url == IMAGE
    assert len(responses.calls) == 2


@responses.activate
def test_rate_limits_then_success() -> None:
    responses.get(URL, status=429)
    responses.get(URL, json=pascal(102))
    responses.get(URL, json=pascal())
    assert client().generate(**ARGS).url == IMAGE
    assert len(responses.calls) == 3


@pytest.mark.parametrize(("header", "slept"), [("3", 3.0), ("60", 5.0)])
@responses.activate
def test_retry_after_header_is_honoured_and_capped(
    monkeypatch: pytest.MonkeyPatch, header: str, slept: float
) -> None:
    sleeps: list[float] = []
    real = transport.with_retries

    def recording(attempt: Any, policy: RetryPolicy) -> Any:
        return real(attempt, policy, sleep=sleeps.append)

    monkeypatch.setattr("barcode_service.transport.with_retries", recording)
    responses.get(URL, status=429, headers={"Retry-After": header})
    responses.get(URL, json=pascal())
    policy = RetryPolicy(backoff=0, max_backoff=5.0, deadline=100.0)
    assert client(policy=policy).generate(**ARGS).url == IMAGE
    assert sleeps == [slept]


@responses.activate
def test_retry_after_header_reaches_the_final_error() -> None:
    responses.get(URL, status=429, headers={"Retry-After": "42"})
    with pytest.raises(UpstreamRateLimited) as info:
        client(policy=RetryPolicy(attempts=1)).generate(**ARGS)
    assert info.value.retry_after == 42
    assert len(responses.calls) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
@responses.activate
def test_4xx_is_never_retried(status: int) -> None:
    responses.get(URL, status=status)
    keys = Keys(KEY)
    with pytest.raises(UpstreamError):
        client(keys=keys).generate(**ARGS)
    assert len(responses.calls) == 1


# --- key rotation -----------------------------------------------------------------------


@pytest.mark.parametrize("rejection", [{"status": 401}, {"status": 403}, {"json": pascal(104)}])
@responses.activate
def test_auth_failure_refetches_the_key_and_retries_once(rejection: dict[str, Any]) -> None:
    def with_key(key: str) -> list[Any]:
        return [matchers.query_param_matcher({"appkey": key}, strict_match=False)]

    responses.get(URL, match=with_key(KEY), **rejection)
    responses.get(URL, match=with_key(NEW_KEY), json=pascal())
    keys = Keys(KEY, NEW_KEY)
    assert client(keys=keys).generate(**ARGS).url == IMAGE
    assert keys.calls == [False, True]
    assert [query(call)["appkey"] for call in responses.calls] == [[KEY], [NEW_KEY]]


@responses.activate
def test_auth_failure_with_the_same_key_raises_without_another_call() -> None:
    responses.get(URL, status=401)
    keys = Keys(KEY, KEY)
    with pytest.raises(UpstreamAuthFailed):
        client(keys=keys).generate(**ARGS)
    assert keys.calls == [False, True]
    assert len(responses.calls) == 1


@responses.activate
def test_a_rotated_key_that_is_also_rejected_is_not_retried_again() -> None:
    responses.get(URL, status=401)
    keys = Keys(KEY, NEW_KEY, "third-key")
    with pytest.raises(UpstreamAuthFailed):
        client(keys=keys).generate(**ARGS)
    assert keys.calls == [False, True]
    assert len(responses.calls) == 2


@responses.activate
def test_rotation_in_form_mode_sends_the_new_key_in_the_body() -> None:
    responses.post(URL, status=401)
    responses.post(URL, json=pascal())
    keys = Keys(KEY, NEW_KEY)
    assert client("form", keys=keys).generate(**ARGS).url == IMAGE
    bodies = [parse_qs(str(call.request.body)) for call in responses.calls]
    assert [body["appkey"] for body in bodies] == [[KEY], [NEW_KEY]]


@pytest.mark.parametrize(
    "answer",
    [{"status": 429}, {"status": 500}, {"status": 400}, {"json": pascal(103)}],
)
@responses.activate
def test_non_auth_failures_never_refresh_the_key(answer: dict[str, Any]) -> None:
    responses.get(URL, **answer)
    keys = Keys(KEY, NEW_KEY)
    with pytest.raises(UpstreamError):
        client(keys=keys).generate(**ARGS)
    assert keys.calls == [False]


def test_client_defaults() -> None:
    gugu = GuGuDataClient(URL, Keys(KEY))
    assert gugu.mode == "get"
    assert gugu.policy == RetryPolicy()
    assert gugu.session.headers["User-Agent"] == USER_AGENT
