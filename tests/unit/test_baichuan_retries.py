"""Baichuan lookup client: retries, deadlines, body limits, key rotation, defaults."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from barcode_service import transport
from barcode_service.errors import (
    ServiceError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from barcode_service.providers.baichuan import (
    BaichuanClient,
    UpstreamNotFound,
    UpstreamProduct,
)
from barcode_service.transport import MAX_BODY_BYTES, USER_AGENT, RetryPolicy
from tests.support.baichuan_client import (
    API_KEY,
    CODE,
    NEW_KEYS,
    SECRET_KEY,
    URL,
    Keys,
    client,
    failure,
    form,
    found,
)

# --- retries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure_",
    [requests.ConnectionError("refused"), requests.ConnectTimeout("connect timed out")],
    ids=["connection-error", "connect-timeout"],
)
@responses.activate
def test_connection_failures_are_retried(failure_: Exception) -> None:
    responses.post(URL, body=failure_)
    responses.post(URL, json=found())
    assert isinstance(client().query(CODE), UpstreamProduct)
    assert len(responses.calls) == 2


@responses.activate
def test_connection_failures_give_up_after_policy_attempts() -> None:
    responses.post(URL, body=requests.ConnectionError("refused"))
    with pytest.raises(UpstreamUnavailable, match="unreachable") as info:
        client().query(CODE)
    assert type(info.value) is UpstreamUnavailable
    assert len(responses.calls) == 3


@responses.activate
def test_read_timeout_is_not_retried_because_the_query_may_be_billed() -> None:
    responses.post(URL, body=requests.ReadTimeout("slow"))
    responses.post(URL, json=found())
    keys = Keys()
    with pytest.raises(UpstreamTimeout) as info:
        client(keys=keys).query(CODE)
    assert info.value.retry_after == 30
    assert len(responses.calls) == 1
    assert keys.calls == [False]


@pytest.mark.parametrize("status", [429, 500, 502, 503])
@responses.activate
def test_5xx_and_429_are_retried(status: int) -> None:
    responses.post(URL, status=status, body="busy")
    responses.post(URL, json=found())
    assert isinstance(client().query(CODE), UpstreamProduct)
    assert len(responses.calls) == 2


@pytest.mark.parametrize(
    ("status", "error"), [(429, UpstreamRateLimited), (500, UpstreamUnavailable)]
)
@responses.activate
def test_5xx_and_429_give_up_after_policy_attempts(status: int, error: type[ServiceError]) -> None:
    responses.post(URL, status=status)
    with pytest.raises(error) as info:
        client(policy=RetryPolicy(attempts=2, backoff=0)).query(CODE)
    assert type(info.value) is error
    assert len(responses.calls) == 2


@responses.activate
def test_a_body_still_arriving_at_the_deadline_is_a_timeout_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport, "attempt_deadline", lambda timeout: 0.0)  # long past
    responses.post(URL, json=found())
    with pytest.raises(UpstreamTimeout):
        client().query(CODE)
    assert len(responses.calls) == 1


@responses.activate
def test_the_body_is_streamed_and_the_response_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    responses.post(URL, json=found())
    lookup = client()
    sent: list[tuple[requests.Response, dict[str, Any]]] = []
    send = lookup.session.request  # the one HTTP seam sends every request through it

    def recording(*args: Any, **kwargs: Any) -> requests.Response:
        response = send(*args, **kwargs)
        sent.append((response, kwargs))
        return response

    monkeypatch.setattr(lookup.session, "request", recording)
    assert isinstance(lookup.query(CODE), UpstreamProduct)
    [(response, kwargs)] = sent
    assert kwargs["stream"] is True
    assert response.raw.closed


@responses.activate
def test_a_body_over_the_size_limit_is_an_error_not_retried() -> None:
    responses.post(URL, body=b" " * (MAX_BODY_BYTES + 1))
    with pytest.raises(UpstreamError, match="too large") as info:
        client().query(CODE)
    assert type(info.value) is UpstreamError
    assert len(responses.calls) == 1


@responses.activate
def test_retry_after_header_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    real = transport.with_retries

    def recording(attempt: Any, policy: RetryPolicy) -> Any:
        return real(attempt, policy, sleep=sleeps.append)

    monkeypatch.setattr("barcode_service.transport.with_retries", recording)
    responses.post(URL, status=429, headers={"Retry-After": "1.5"})
    responses.post(URL, json=found())
    assert isinstance(client(policy=RetryPolicy(backoff=0)).query(CODE), UpstreamProduct)
    assert sleeps == [1.5]


# --- key rotation ----------------------------------------------------------------------


@responses.activate
def test_bad_keys_refetch_and_retry_once_with_the_new_keys() -> None:
    responses.post(URL, json=failure("API Key或Secret Key错误"))
    responses.post(URL, json=found())
    keys = Keys((API_KEY, SECRET_KEY), NEW_KEYS)
    assert isinstance(client(keys=keys).query(CODE), UpstreamProduct)
    assert keys.calls == [False, True]
    sent = [form(call) for call in responses.calls]
    assert [(f["api_key"], f["secret_key"]) for f in sent] == [
        ([API_KEY], [SECRET_KEY]),
        ([NEW_KEYS[0]], [NEW_KEYS[1]]),
    ]


@responses.activate
def test_bad_keys_with_only_a_new_secret_key_still_retry() -> None:
    responses.post(URL, json=failure("API Key或Secret Key错误"))
    responses.post(URL, json=failure("未找到该条形码对应的产品信息", {"country": "中国"}))
    keys = Keys((API_KEY, SECRET_KEY), (API_KEY, NEW_KEYS[1]))
    assert client(keys=keys).query(CODE) == UpstreamNotFound(country="中国")
    assert form(responses.calls[1])["secret_key"] == [NEW_KEYS[1]]


@responses.activate
def test_bad_keys_with_unchanged_keys_raise_without_another_call() -> None:
    responses.post(URL, json=failure("API Key或Secret Key错误"))
    keys = Keys((API_KEY, SECRET_KEY), (API_KEY, SECRET_KEY))
    with pytest.raises(UpstreamAuthFailed):
        client(keys=keys).query(CODE)
    assert keys.calls == [False, True]
    assert len(responses.calls) == 1


@responses.activate
def test_new_keys_also_rejected_raise_after_two_calls() -> None:
    responses.post(URL, json=failure("API Key或Secret Key错误"))
    keys = Keys((API_KEY, SECRET_KEY), NEW_KEYS, ("third", "keys"))
    with pytest.raises(UpstreamAuthFailed):
        client(keys=keys).query(CODE)
    assert keys.calls == [False, True]
    assert len(responses.calls) == 2


def test_client_defaults() -> None:
    lookup = BaichuanClient(URL, Keys())
    assert lookup.policy == RetryPolicy()
    assert lookup.session.headers["User-Agent"] == USER_AGENT
