"""No credential value ever shows in logs, error messages or problem bodies, on any failure path.

Each scenario drives a client (or the secret store) into a failure whose raw material
(upstream body, requests exception text, secret document) contains the credentials,
with every logger at DEBUG, then looks for the secret strings everywhere they could land.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
import pytest
import requests
import responses
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

from barcode_service.api import problem_response
from barcode_service.credentials import SecretStore
from barcode_service.errors import ServiceError
from barcode_service.gugudata import GuGuDataClient, RequestMode
from barcode_service.providers.baichuan import BaichuanClient
from barcode_service.transport import RetryPolicy
from tests.conftest import SECRET, SECRET_STRINGS, SECRET_VALUE

APPKEY, API_KEY, SECRET_KEY = SECRET_STRINGS
GEN_URL = "https://api.gugudata.com/barcode/barcode"
LOOKUP_URL = "https://tiaoma.cnaidc.com/api/api_query.php"
POLICY = RetryPolicy(attempts=2, backoff=0, max_backoff=0)
ARGS: dict[str, Any] = {"type": "EAN13", "content": "6901234567892", "width": 300, "height": 120}

GEN_URL_WITH_KEY = f"{GEN_URL}?appkey={APPKEY}&type=EAN13"
LOOKUP_FORM = f"api_key={API_KEY}&secret_key={SECRET_KEY}&code_sn=6901234567892"


def generate(mode: RequestMode, response: dict[str, Any]) -> ServiceError:
    """Generate against one canned upstream answer; the error the client raised."""
    responses.add(responses.GET if mode == "get" else responses.POST, GEN_URL, **response)
    gugu = GuGuDataClient(GEN_URL, lambda refresh: APPKEY, mode=mode, policy=POLICY)
    with pytest.raises(ServiceError) as info:
        gugu.generate(**ARGS)
    return info.value


def lookup(response: dict[str, Any]) -> ServiceError:
    """Look a code up against one canned upstream answer; the error the client raised."""
    responses.add(responses.POST, LOOKUP_URL, **response)
    client = BaichuanClient(LOOKUP_URL, lambda refresh: (API_KEY, SECRET_KEY), policy=POLICY)
    with pytest.raises(ServiceError) as info:
        client.query("6901234567892")
    return info.value


def gugu_json(code: int, description: str) -> dict[str, Any]:
    return {"DataStatus": {"StatusCode": code, "StatusDescription": description}}


GENERATION = {
    "400-echoes-query": ("get", {"status": 400, "body": f"bad request: {GEN_URL_WITH_KEY}"}),
    "400-echoes-json": ("get", {"status": 400, "json": {"appkey": APPKEY, "error": "bad"}}),
    "400-echoes-bare-key": ("get", {"status": 400, "body": f"APPKEY {APPKEY} 无效"}),
    "plain-text-echoes-key": ("get", {"status": 200, "body": f"E-1: bad key {APPKEY}"}),
    "101-description-echoes-key": ("get", {"json": gugu_json(101, f"appkey:{APPKEY} 参数错误")}),
    "110-description-echoes-key": ("get", {"json": gugu_json(110, f"error for {APPKEY}")}),
    "104": ("get", {"json": gugu_json(104, f"APPKEY错误 {APPKEY}")}),
    "401": ("get", {"status": 401, "body": f"unknown appkey {APPKEY}"}),
    "403-html": ("get", {"status": 403, "body": f"<html><body>{GEN_URL_WITH_KEY}</body></html>"}),
    "429": ("get", {"status": 429, "body": APPKEY}),
    "503-echoes-key": ("get", {"status": 503, "body": GEN_URL_WITH_KEY}),
    "http-url-with-key": (
        "get",
        {"json": {"DataStatus": {"StatusCode": 100}, "Data": {"Url": f"http://x/?k={APPKEY}"}}},
    ),
    "html-200": ("get", {"body": f"<!DOCTYPE html><p>{APPKEY}</p>"}),
    "connection-error": (
        "get",
        {
            "body": requests.ConnectionError(
                f"HTTPSConnectionPool(host='api.gugudata.com', port=443): Max retries exceeded "
                f"with url: /barcode/barcode?appkey={APPKEY}&type=EAN13"
            )
        },
    ),
    "read-timeout": (
        "get",
        {"body": requests.ReadTimeout(f"Read timed out. (url={GEN_URL_WITH_KEY})")},
    ),
    "form-connection-error": (
        "form",
        {"body": requests.ConnectionError(f"aborted while sending appkey={APPKEY}")},
    ),
    "multipart-400-echo": ("multipart", {"status": 400, "body": f"bad field {APPKEY}"}),
    "json-400-echo": ("json", {"status": 400, "json": {"appkey": APPKEY}}),
}

LOOKUP = {
    "bad-keys": {"json": {"code": 0, "msg": "API Key或Secret Key错误"}},
    "key-disabled": {"json": {"code": 0, "msg": "API Key已被禁用"}},
    "no-plan": {"json": {"code": 0, "msg": "无可用的套餐"}},
    "plan-used-up": {"json": {"code": 0, "msg": "套餐查询次数已用完"}},
    "daily-quota": {"json": {"code": 0, "msg": "今日查询次数已用完"}},
    "missing-parameter": {"json": {"code": 0, "msg": f"参数不完整 {LOOKUP_FORM}"}},
    "unknown-msg-echoes-keys": {"json": {"code": 0, "msg": f"{API_KEY}/{SECRET_KEY} 错误"}},
    "invalid-json-echoes-keys": {"body": f'{{"code": 0 "msg": "{LOOKUP_FORM}"'},
    "html-echoes-keys": {"body": f"<html><body>{LOOKUP_FORM}</body></html>"},
    "500-echoes-keys": {"status": 500, "body": LOOKUP_FORM},
    "429": {"status": 429, "body": LOOKUP_FORM},
    "403": {"status": 403, "body": LOOKUP_FORM},
    "connection-error": {"body": requests.ConnectionError(f"aborted: body {LOOKUP_FORM}")},
    "connect-timeout": {"body": requests.ConnectTimeout(f"timed out: {LOOKUP_URL}?{LOOKUP_FORM}")},
    "read-timeout": {"body": requests.ReadTimeout(f"Read timed out: {LOOKUP_FORM}")},
}


@cache
def secretsmanager() -> Any:
    """One client for every test: creating a boto3 client costs ~0.1 s; moto resets state."""
    return boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture(autouse=True)
def _reuse_one_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same Powertools code path, minus a new boto3 session per test (conftest clears them).
    monkeypatch.setitem(
        parameters_base.DEFAULT_PROVIDERS, "secrets", SecretsProvider(boto3_client=secretsmanager())
    )


def put_secret(text: str) -> None:
    secretsmanager().create_secret(Name=SECRET, SecretString=text)


def broken_document() -> str:
    return json.dumps(SECRET_VALUE)[:-3]  # truncated: not JSON, but full of secrets


CREDENTIALS: dict[str, Callable[[], str]] = {
    "truncated-json": broken_document,
    "not-an-object": lambda: json.dumps(list(SECRET_STRINGS)),
    "missing-secret-key": lambda: json.dumps(
        {**SECRET_VALUE, "lookup": {"api_key": API_KEY, "secret_key": ""}}
    ),
    "lookup-is-a-string": lambda: json.dumps({**SECRET_VALUE, "lookup": LOOKUP_FORM}),
}


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "botocore", "boto3", "barcode_service", "aws_lambda_powertools"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def emit_urllib3_request_lines() -> None:
    """What urllib3 logs for each request the test made (it does not run under `responses`)."""
    log = logging.getLogger("urllib3.connectionpool")
    for call in responses.calls:
        request = call.request
        log.debug(
            '%s://%s:%s "%s %s %s" %s %s',
            "https",
            "upstream",
            443,
            request.method,
            request.path_url,
            "HTTP/1.1",
            200,
            0,
        )


def assert_no_secret(caplog: pytest.LogCaptureFixture, error: ServiceError) -> None:
    emit_urllib3_request_lines()
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    shown = "\n".join(
        [
            str(error),
            repr(error),
            error.detail,
            json.dumps(error.to_problem(), ensure_ascii=False),
            str(problem_response(error).body),
            "".join(traceback.format_exception(error)),
        ]
    )
    for secret in SECRET_STRINGS:
        assert secret not in logged
        assert secret not in shown
    assert error.__cause__ is None


def test_scenarios_reach_the_secrets() -> None:
    """Guard: the raw material of the scenarios really holds the secrets."""
    raw = json.dumps([GENERATION, LOOKUP], default=str) + "".join(f() for f in CREDENTIALS.values())
    for secret in SECRET_STRINGS:
        assert secret in raw


@pytest.mark.parametrize(("mode", "response"), GENERATION.values(), ids=GENERATION.keys())
@responses.activate
def test_generation_failures(
    everything_logged: pytest.LogCaptureFixture, mode: RequestMode, response: dict[str, Any]
) -> None:
    error = generate(mode, response)
    assert responses.calls  # the key really went out on the request
    assert_no_secret(everything_logged, error)


@pytest.mark.parametrize("response", LOOKUP.values(), ids=LOOKUP.keys())
@responses.activate
def test_lookup_failures(
    everything_logged: pytest.LogCaptureFixture, response: dict[str, Any]
) -> None:
    error = lookup(response)
    assert responses.calls
    assert_no_secret(everything_logged, error)


@pytest.mark.parametrize("document", CREDENTIALS.values(), ids=CREDENTIALS.keys())
def test_credential_failures(
    aws: None, everything_logged: pytest.LogCaptureFixture, document: Callable[[], str]
) -> None:
    put_secret(document())
    everything_logged.clear()  # the test's own CreateSecret call is not under test
    store = SecretStore(SECRET)
    raised: list[ServiceError] = []
    for read in (store.generate, store.lookup):
        try:
            read(refresh=True)
        except ServiceError as error:
            raised.append(error)
    assert raised
    for failure in raised:
        assert_no_secret(everything_logged, failure)


def test_reading_a_good_secret_logs_no_value(
    secret: dict[str, Any], everything_logged: pytest.LogCaptureFixture
) -> None:
    everything_logged.clear()
    store = SecretStore(SECRET)
    store.generate()
    store.lookup(refresh=True)
    # botocore logs whole response bodies at DEBUG: the GetSecretValue one is redacted.
    assert any("Response body" in r.getMessage() for r in everything_logged.records)
    logged = everything_logged.text
    for value in SECRET_STRINGS:
        assert value not in logged


@responses.activate
def test_successful_requests_log_no_secret(everything_logged: pytest.LogCaptureFixture) -> None:
    responses.get(
        GEN_URL, json={"DataStatus": {"StatusCode": 100}, "Data": {"Url": "https://c/a.png"}}
    )
    responses.post(LOOKUP_URL, json={"code": 1, "msg": "查询成功", "data": {"code_name": "水"}})
    GuGuDataClient(GEN_URL, lambda refresh: APPKEY, policy=POLICY).generate(**ARGS)
    BaichuanClient(LOOKUP_URL, lambda refresh: (API_KEY, SECRET_KEY), policy=POLICY).query("1")
    assert APPKEY in str(responses.calls[0].request.url)  # it was in the request line ...
    emit_urllib3_request_lines()
    for secret in SECRET_STRINGS:  # ... but not in the log
        assert secret not in everything_logged.text
    assert "appkey=***" in everything_logged.text


def test_botocore_body_filter_survives_a_broken_log_call(
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    body = json.dumps({"SecretString": json.dumps(SECRET_VALUE)})
    logging.getLogger("botocore.parsers").debug(f"Response body:\n{body} %d", "not a number")
    logging.getLogger("botocore.parsers").debug("Response body:\n%r", b'{"Name": "x"}')
    messages = [record.getMessage() for record in everything_logged.records]
    assert messages[0] == "Response body: <redacted: holds a Secrets Manager secret value>"
    assert messages[1] == 'Response body:\nb\'{"Name": "x"}\''  # other bodies untouched
    for secret in SECRET_STRINGS:
        assert secret not in everything_logged.text
