"""No credential value reaches a log line or a response, on any handler path.

The handlers run with DEBUG logging everywhere (Powertools, botocore, urllib3) against
an upstream on loopback that echoes the credentials back in every way it can: in
error pages, plain-text messages and JSON. Everything written to stdout, stderr and
the logging system is collected and searched for the secret values.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import SECRET_STRINGS, SECRET_VALUE
from tests.support.fault_server import Action, FaultHandler, FaultServer, reset, respond
from tests.support.faults import (
    assert_defined,
    call_generate,
    call_lookup,
    generate_event,
    reset_handler_services,
)
from tests.support.upstreams import baichuan_failure, baichuan_found, baichuan_not_found

APPKEY = SECRET_VALUE["generate"]["appkey"]
API_KEY = SECRET_VALUE["lookup"]["api_key"]
SECRET_KEY = SECRET_VALUE["lookup"]["secret_key"]
CODE = "6901234567892"
NOISY = ("botocore", "boto3", "urllib3", "requests", "barcode_service", "aws_lambda_powertools")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("moto"):
            return  # the AWS emulator, not our code: it is not deployed
        try:
            self.lines.append(self.format(record))
        except Exception as error:  # a record that cannot be formatted is still a finding
            self.lines.append(f"{record.name}: unformattable {error!r} {record.msg!r}")


class Output:
    """Everything the code under test has written so far (logging, stdout, stderr)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.handler = Capture()
        self.handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.buffer = io.StringIO()
        self.printed: list[str] = []

    def lines(self) -> list[str]:
        captured = self.capsys.readouterr()
        self.printed += captured.out.splitlines() + captured.err.splitlines()
        return self.handler.lines + self.buffer.getvalue().splitlines() + self.printed


@pytest.fixture
def everything(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Output]:
    from barcode_service.observability import logger as service_logger

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    output = Output(capsys)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in ("", *NOISY)}
    root.addHandler(output.handler)
    for name in ("", *NOISY):
        logging.getLogger(name).setLevel(logging.DEBUG)
    streams = []
    for existing in service_logger.handlers:
        if isinstance(existing, logging.StreamHandler):
            streams.append((existing, existing.setStream(output.buffer)))
    previous_level = service_logger.log_level
    service_logger.setLevel("DEBUG")
    try:
        yield output
    finally:
        service_logger.setLevel(previous_level)
        for existing, stream in streams:
            existing.setStream(stream)
        root.removeHandler(output.handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def assert_no_secret(output: Output, *responses: Any) -> None:
    texts = output.lines()
    # The capture works: a handler call always logs (Powertools at DEBUG) or prints (EMF).
    assert texts, "nothing was captured"
    blob = "\n".join(texts) + "\n".join(json.dumps(r.raw, default=str) for r in responses)
    for secret in SECRET_STRINGS:
        assert secret not in blob, f"{secret} leaked: " + next(
            (line for line in blob.splitlines() if secret in line), ""
        )


def echo(status: int, template: str, content_type: str = "text/plain") -> Action:
    """Answer with `template` where {form} is what the client sent (credentials included)."""

    def act(handler: FaultHandler) -> None:
        sent = handler.server.requests[-1].params
        text = template.format(form=json.dumps(sent, ensure_ascii=False), **sent)
        respond(status, text, content_type=content_type)(handler)

    return act


def run_paths(calls: list[tuple[Action, Any]], upstream: FaultServer) -> list[Any]:
    results = []
    for action, call in calls:
        reset_handler_services()
        upstream.always(action)
        result = call()
        assert_defined(result)
        results.append(result)
    return results


LOOKUP_PATHS = {
    "found": respond(200, baichuan_found(CODE)),
    "not-found": respond(200, baichuan_not_found()),
    "bad-key": respond(200, baichuan_failure("API Key或Secret Key错误")),
    "quota": respond(200, baichuan_failure("今日查询次数已用完")),
    "echo-html": echo(200, "<html><body>bad request {form}</body></html>", "text/html"),
    "echo-json-msg": echo(200, '{{"code": 0, "msg": "key {api_key} secret {secret_key}"}}'),
    "echo-500": echo(500, "internal error for {form}"),
    "echo-403": echo(403, "forbidden api_key={api_key}&secret_key={secret_key}"),
    "reset": reset(),
}


@pytest.mark.parametrize("path", list(LOOKUP_PATHS))
def test_lookup_paths_never_show_a_secret(
    table: str, secret: dict, upstream: FaultServer, everything: Output, path: str
) -> None:
    upstream.always(LOOKUP_PATHS[path])
    result = call_lookup()
    assert_defined(result)
    assert upstream.count >= 1  # the credentials did go out, to the upstream only
    assert API_KEY in json.dumps(upstream.requests[0].params)
    assert_no_secret(everything, result)


def test_lookup_batch_never_shows_a_secret(
    table: str, secret: dict, upstream: FaultServer, everything: Output
) -> None:
    from tests.conftest import load_event

    upstream.always(echo(200, '{{"code": 0, "msg": "{form}"}}'))
    result = call_lookup(load_event("lookup_batch.json"))
    assert_defined(result, 200)
    assert_no_secret(everything, result)


GENERATE_PATHS = {
    "ok": respond(
        200,
        {
            "DataStatus": {"StatusCode": 100, "StatusDescription": "ok"},
            "Data": {"Url": "https://cdn.example.com/a.png"},
        },
    ),
    "echo-400-text": echo(400, "EEAN13-1: bad data for appkey={appkey}"),
    "echo-plain-validation": echo(200, "EEAN13-1: Data length invalid for {form}"),
    "echo-101": echo(
        200, '{{"DataStatus": {{"StatusCode": 101, "StatusDescription": "bad {appkey}"}}}}'
    ),
    "echo-104": echo(
        200, '{{"DataStatus": {{"StatusCode": 104, "StatusDescription": "APPKEY {appkey}"}}}}'
    ),
    "echo-401": echo(401, "unknown appkey {appkey}"),
    "echo-500": echo(500, "error {form}"),
    "echo-html": echo(200, "<!DOCTYPE html><html>{form}</html>", "text/html"),
    "reset": reset(),
}


@pytest.mark.parametrize("mode", ["get", "form", "multipart", "json"])
@pytest.mark.parametrize("path", list(GENERATE_PATHS))
def test_generate_paths_never_show_the_appkey(  # noqa: PLR0917 - fixtures and parameters
    secret: dict,
    images_bucket: str,
    upstream: FaultServer,
    everything: Output,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    mode: str,
) -> None:
    monkeypatch.setenv("GENERATE_REQUEST_MODE", mode)
    upstream.always(GENERATE_PATHS[path])
    result = call_generate(generate_event())
    assert_defined(result)
    assert upstream.count >= 1
    assert APPKEY in json.dumps(upstream.requests[0].params)
    assert_no_secret(everything, result)


def test_generate_auto_fallback_never_shows_the_appkey(
    secret: dict,
    images_bucket: str,
    upstream: FaultServer,
    everything: Output,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GENERATE_BACKEND", "auto")
    upstream.always(echo(503, "unavailable for appkey={appkey}"))
    result = call_generate(generate_event())
    assert_defined(result, 200)
    assert_no_secret(everything, result)


def test_unexpected_error_shows_no_secret(
    table: str,
    secret: dict,
    upstream: FaultServer,
    everything: Output,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import requests

    def broken(*args: Any, **kwargs: Any) -> Any:
        url = f"{upstream.base_url}/api?api_key={API_KEY}&secret_key={SECRET_KEY}"
        raise requests.ConnectionError(f"HTTPConnectionPool: Max retries exceeded with url: {url}")

    monkeypatch.setattr("requests.Session.request", broken)  # every upstream call goes through it
    result = call_lookup()
    assert_defined(result, 503)
    assert_no_secret(everything, result)


@pytest.mark.parametrize("channel", ["powertools", "botocore", "print"])
def test_the_capture_would_see_a_leak(everything: Output, channel: str) -> None:
    from barcode_service.observability import logger as service_logger

    if channel == "powertools":
        service_logger.debug("leak", extra={"value": API_KEY})
    elif channel == "botocore":
        logging.getLogger("botocore.endpoint").debug("leak %s", SECRET_KEY)
    else:
        print(f"leak {APPKEY}")
    with pytest.raises(AssertionError, match="leaked"):
        assert_no_secret(everything)
