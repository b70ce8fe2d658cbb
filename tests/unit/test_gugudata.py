"""GuGuData generation client: request modes, body spellings, status mapping, retries, rotation."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from barcode_service import gugudata, transport
from barcode_service.errors import (
    ServiceError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInArrears,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from barcode_service.gugudata import GeneratedImage, GuGuDataClient, RequestMode
from barcode_service.transport import MAX_BODY_BYTES, USER_AGENT, RetryPolicy

URL = "https://api.gugudata.com/barcode/barcode"
IO_URL = "https://api.gugudata.io/v1/barcode"
KEY = "gg-appkey-SECRET-1111"
NEW_KEY = "gg-appkey-ROTATED-9999"
IMAGE = "https://cdn.gugudata.com/barcode/2026/abc.png"
FAST = RetryPolicy(backoff=0, max_backoff=0.001)

ARGS: dict[str, Any] = {"type": "EAN13", "content": "6901234567892", "width": 300, "height": 120}


def pascal(code: int = 100, url: str | None = IMAGE, description: str = "ok") -> dict[str, Any]:
    data: dict[str, Any] = {"Content": "EAN13:6901234567892"}
    if url is not None:
        data["Url"] = url
    return {
        "DataStatus": {
            "StatusCode": code,
            "StatusDescription": description,
            "ResponseDateTime": "2026-11-25 10:00:00",
            "DataTotalCount": 1,
        },
        "Data": data,
    }


def camel(code: int = 100, url: str = IMAGE) -> dict[str, Any]:
    return {
        "dataStatus": {"statusCode": code, "statusDescription": "ok"},
        "data": {"content": "EAN13:6901234567892", "url": url},
    }


class Keys:
    """An appkey source that records how it was asked (refresh or not)."""

    def __init__(self, *keys: str) -> None:
        self.keys = list(keys)
        self.calls: list[bool] = []

    def __call__(self, refresh: bool) -> str:
        self.calls.append(refresh)
        return self.keys[min(len(self.calls), len(self.keys)) - 1]


def client(
    mode: RequestMode = "get", keys: Keys | None = None, url: str = URL, **kw: Any
) -> GuGuDataClient:
    return GuGuDataClient(url, keys or Keys(KEY), mode=mode, policy=kw.pop("policy", FAST), **kw)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# --- request modes: where the appkey goes ----------------------------------------


@responses.activate
def test_get_sends_everything_as_query_parameters() -> None:
    responses.get(URL, json=pascal())
    image = client().generate(**ARGS, show_label=True)
    assert image == GeneratedImage(url=IMAGE)
    request = responses.calls[0].request
    assert request.method == "GET"
    assert request.body is None
    assert query(responses.calls[0]) == {
        "appkey": [KEY],
        "type": ["EAN13"],
        "content": ["6901234567892"],
        "width": ["300"],
        "height": ["120"],
        "showLabel": ["true"],
    }


@responses.activate
def test_get_is_the_default_mode_and_show_label_defaults_to_false() -> None:
    responses.get(URL, json=pascal())
    GuGuDataClient(URL, Keys(KEY), policy=FAST).generate(**ARGS)
    assert query(responses.calls[0])["showLabel"] == ["false"]


@responses.activate
def test_form_post_puts_the_appkey_in_the_form_body() -> None:
    form = {
        "appkey": KEY,
        "type": "EAN13",
        "content": "6901234567892",
        "width": "300",
        "height": "120",
        "showLabel": "false",
    }
    responses.post(URL, json=pascal(), match=[matchers.urlencoded_params_matcher(form)])
    assert client("form").generate(**ARGS).url == IMAGE
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert urlsplit(request.url).query == ""


@responses.activate
def test_multipart_post_puts_the_appkey_in_a_form_field() -> None:
    responses.post(URL, json=pascal())
    assert client("multipart").generate(**ARGS).url == IMAGE
    request = responses.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert urlsplit(request.url).query == ""
    body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
    for name, value in {"appkey": KEY, "type": "EAN13", "content": "6901234567892"}.items():
        assert f'name="{name}"\r\n\r\n{value}\r\n' in body


@responses.activate
def test_json_post_puts_the_appkey_in_the_query_only() -> None:
    body = {"type": "EAN13", "content": "6901234567892", "width": 300, "height": 120}
    responses.post(
        IO_URL,
        json=camel(),
        match=[
            matchers.query_param_matcher({"appkey": KEY}),
            matchers.json_params_matcher(body, strict_match=False),
        ],
    )
    assert client("json", url=IO_URL).generate(**ARGS).url == IMAGE
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    sent = json.loads(request.body or b"")
    assert "appkey" not in sent
    assert isinstance(sent["width"], int)
    assert sent["showLabel"] is False


@pytest.mark.parametrize("mode", ["get", "form", "multipart", "json"])
@responses.activate
def test_user_agent_on_every_mode(mode: RequestMode) -> None:
    responses.add(responses.GET if mode == "get" else responses.POST, URL, json=pascal())
    client(mode).generate(**ARGS)
    assert responses.calls[0].request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("barcode-backend/")


# --- success bodies ---------------------------------------------------------------


@pytest.mark.parametrize("body", [pascal(), camel()], ids=["PascalCase", "camelCase"])
@responses.activate
def test_reads_both_spellings(body: dict[str, Any]) -> None:
    responses.get(URL, json=body)
    assert client().generate(**ARGS) == GeneratedImage(url=IMAGE)


@responses.activate
def test_status_code_as_string_and_missing_content() -> None:
    responses.get(URL, json={"DataStatus": {"StatusCode": "100"}, "Data": {"Url": f"  {IMAGE}\n"}})
    assert client().generate(**ARGS) == GeneratedImage(url=IMAGE)


@responses.activate
def test_utf8_bom_before_json_is_tolerated() -> None:
    raw = "\ufeff" + json.dumps(pascal(description="正常"), ensure_ascii=False)
    responses.get(URL, body=raw.encode("utf-8"), content_type="application/json")
    assert client().generate(**ARGS).url == IMAGE


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.gugudata.com/a.png",
        None,
        "",
        "/barcode/a.png",
        "https://",
        "https://[broken/a.png",
        "ftp://cdn.gugudata.com/a.png",
        12345,
    ],
)
@responses.activate
def test_success_without_an_https_url_is_an_upstream_error(url: Any) -> None:
    body = pascal()
    if url is None:
        del body["Data"]["Url"]
    else:
        body["Data"]["Url"] = url
    responses.get(URL, json=body)
    with pytest.raises(UpstreamError, match="https URL") as info:
        client().generate(**ARGS)
    assert type(info.value) is UpstreamError


@responses.activate
def test_success_without_data_is_an_upstream_error() -> None:
    responses.get(URL, json={"DataStatus": {"StatusCode": 100}})
    with pytest.raises(UpstreamError, match="https URL"):
        client().generate(**ARGS)


# --- plain-text, HTML and empty 200 bodies ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "EEAN13-1: Data length invalid. (Length must be 12 or 13)",
        "EGENERATE_IMAGE-2: Image size specified not large enough to draw image. (Bar size "
        "determined to be less than 1 pixel)",
    ],
)
@responses.activate
def test_plain_text_200_is_a_validation_rejection(text: str) -> None:
    responses.get(URL, body=text, content_type="text/plain")
    with pytest.raises(UpstreamRejected) as info:
        client().generate(**ARGS)
    assert text[:40] in info.value.detail
    assert info.value.status == 502
    assert len(responses.calls) == 1


@responses.activate
def test_plain_text_in_chinese_without_charset_is_decoded_as_utf8() -> None:
    responses.get(URL, body="内容长度无效".encode(), content_type="text/plain")
    with pytest.raises(UpstreamRejected, match="内容长度无效"):
        client().generate(**ARGS)


@responses.activate
def test_plain_text_in_a_declared_legacy_charset_is_decoded_by_it() -> None:
    text = "条码内容长度无效"
    responses.get(URL, body=text.encode("gbk"), content_type="text/plain; charset=gbk")
    with pytest.raises(UpstreamRejected, match=text):
        client().generate(**ARGS)


@responses.activate
def test_long_plain_text_is_shortened_to_one_line() -> None:
    responses.get(URL, body="E-1: bad\n" + "x" * 500, content_type="text/plain")
    with pytest.raises(UpstreamRejected) as info:
        client().generate(**ARGS)
    assert "\n" not in info.value.detail
    assert info.value.detail.endswith("…")
    assert len(info.value.detail) < 300


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n",
        "<!DOCTYPE html><html><body>Service Unavailable</body></html>",
        "<html><head><title>502</title></head></html>",
    ],
    ids=["empty", "blank", "doctype", "html"],
)
@responses.activate
def test_html_or_empty_200_is_an_upstream_error(body: str) -> None:
    responses.get(URL, body=body, content_type="text/html")
    with pytest.raises(UpstreamError, match="unreadable") as info:
        client().generate(**ARGS)
    assert type(info.value) is UpstreamError


@pytest.mark.parametrize(
    "body",
    [{"Data": {"Url": IMAGE}}, [1, 2], {"DataStatus": {"StatusCode": "abc"}}, "just a string"],
)
@responses.activate
def test_json_without_a_status_code_is_an_upstream_error(body: Any) -> None:
    responses.get(URL, json=body)
    with pytest.raises(UpstreamError, match="status code") as info:
        client().generate(**ARGS)
    assert type(info.value) is UpstreamError


@responses.activate
def test_infinite_status_code_is_an_upstream_error() -> None:
    responses.get(URL, body='{"DataStatus": {"StatusCode": Infinity}}')
    with pytest.raises(UpstreamError, match="status code"):
        client().generate(**ARGS)


# --- HTTP status and business code mapping ------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "calls"),
    [
        (400, UpstreamRejected, 1),
        (401, UpstreamAuthFailed, 1),
        (403, UpstreamAuthFailed, 1),
        (404, UpstreamError, 1),
        (429, UpstreamRateLimited, 3),
        (500, UpstreamUnavailable, 3),
        (502, UpstreamUnavailable, 3),
        (503, UpstreamUnavailable, 3),
    ],
)
@responses.activate
def test_http_status_mapping(status: int, error: type[ServiceError], calls: int) -> None:
    responses.get(URL, status=status, body="nope")
    with pytest.raises(error) as info:
        client().generate(**ARGS)
    assert type(info.value) is error
    assert len(responses.calls) == calls


@responses.activate
def test_http_400_detail_carries_the_upstream_message() -> None:
    responses.get(URL, status=400, body="width must be a number")
    with pytest.raises(UpstreamRejected, match="width must be a number"):
        client().generate(**ARGS)


@pytest.mark.parametrize(
    ("code", "error", "calls"),
    [
        (101, UpstreamRejected, 1),
        (102, UpstreamRateLimited, 3),
        (103, UpstreamInArrears, 1),
        (104, UpstreamAuthFailed, 1),
        (110, UpstreamUnavailable, 3),
        (999, UpstreamError, 1),
    ],
)
@pytest.mark.parametrize("spelling", [pascal, camel], ids=["PascalCase", "camelCase"])
@responses.activate
def test_business_code_mapping(
    code: int, error: type[ServiceError], calls: int, spelling: Any
) -> None:
    responses.get(URL, json=spelling(code))
    with pytest.raises(error) as info:
        client().generate(**ARGS)
    assert type(info.value) is error
    assert len(responses.calls) == calls


@responses.activate
def test_parameter_error_detail_carries_the_description() -> None:
    responses.get(URL, json=pascal(101, description="content 参数错误"))
    with pytest.raises(UpstreamRejected, match="content 参数错误"):
        client().generate(**ARGS)


@responses.activate
def test_business_error_without_description() -> None:
    responses.get(URL, json={"DataStatus": {"StatusCode": 101}})
    with pytest.raises(UpstreamRejected, match="no description"):
        client().generate(**ARGS)


@responses.activate
def test_account_errors_ask_for_a_long_retry_after() -> None:
    responses.get(URL, json=pascal(103))
    with pytest.raises(UpstreamInArrears) as info:
        client().generate(**ARGS)
    assert info.value.retry_after == 3600
    assert info.value.to_problem()["code"] == "upstream_in_arrears"


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
    monkeypatch.setattr(gugudata, "attempt_deadline", lambda timeout: next(deadlines))
    responses.get(URL, json=pascal())
    assert client().generate(**ARGS).url == IMAGE
    assert len(responses.calls) == 2


@responses.activate
def test_a_body_never_complete_in_time_gives_up_as_upstream_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gugudata, "attempt_deadline", lambda timeout: 0.0)
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

    monkeypatch.setattr(gugu.session, "get", recording(gugu.session.get))
    monkeypatch.setattr(gugu.session, "post", recording(gugu.session.post))
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

    monkeypatch.setattr("barcode_service.gugudata.with_retries", recording)
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
