"""GuGuData generation client: request modes, body spellings, plain-text bodies, status mapping."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from responses import matchers

from barcode_service.errors import (
    ServiceError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInArrears,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from barcode_service.gugudata import GeneratedImage, GuGuDataClient, RequestMode
from barcode_service.transport import USER_AGENT
from tests.support.gugudata_client import (
    ARGS,
    FAST,
    IMAGE,
    IO_URL,
    KEY,
    URL,
    Keys,
    camel,
    client,
    pascal,
    query,
)

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
