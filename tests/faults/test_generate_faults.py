"""The generate handler against a misbehaving generation upstream and AWS faults."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.fault_server import (
    Action,
    FaultServer,
    drip,
    html,
    reset,
    respond,
    sleep_then,
    truncated,
)
from tests.support.faults import (
    FUNCTION_TIMEOUT,
    assert_defined,
    call_generate,
    generate_event,
    within,
)
from tests.support.upstreams import gugudata_success

OK = gugudata_success("EAN13:6901234567892", url="https://cdn.example.com/b/abc.png")


def status_body(code: int, description: str = "x") -> dict[str, Any]:
    return {"DataStatus": {"StatusCode": code, "StatusDescription": description}, "Data": None}


FAULTS: dict[str, tuple[Action, int, str]] = {
    "timeout": (sleep_then(3, respond(200, OK)), 503, "upstream_timeout"),
    "reset": (reset(), 503, "upstream_unavailable"),
    "5xx": (respond(503, "down"), 503, "upstream_unavailable"),
    "500": (respond(500, "oops"), 503, "upstream_unavailable"),
    "429": (respond(429, "slow"), 429, "rate_limited"),
    "102": (respond(200, status_body(102, "rate limited")), 429, "rate_limited"),
    "110": (respond(200, status_body(110, "api error")), 503, "upstream_unavailable"),
    "103": (respond(200, status_body(103, "arrears")), 503, "upstream_in_arrears"),
    "104": (respond(200, status_body(104, "appkey error")), 503, "upstream_auth_failed"),
    "401": (respond(401, "unauthorised"), 503, "upstream_auth_failed"),
    "html": (html(200), 502, "upstream_error"),
    "cut-body": (truncated(body='{"DataStatus": {"StatusCode": 1'), 503, "upstream_unavailable"),
    "http-url": (
        respond(200, gugudata_success("x", url="http://insecure.example.com/a.png")),
        502,
        "upstream_error",
    ),
    "no-status": (respond(200, {"Data": {"Url": "https://cdn.example.com/a.png"}}), 502, ""),
    "unknown-status": (respond(200, status_body(999)), 502, "upstream_error"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_upstream_only_mode_answers_each_fault_with_its_problem(
    secret: dict, images_bucket: str, upstream: FaultServer, fault: str
) -> None:
    action, status, code = FAULTS[fault]
    upstream.always(action)
    result = call_generate()
    assert_defined(result, status, code or None)


@pytest.mark.parametrize("fault", ["timeout", "reset", "5xx", "429", "102", "104", "html"])
def test_auto_mode_falls_back_to_a_local_render(
    secret: dict,
    images_bucket: str,
    upstream: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    monkeypatch.setenv("GENERATE_BACKEND", "auto")
    upstream.always(FAULTS[fault][0])
    result = call_generate()
    assert_defined(result, 200)
    assert result.body["backend"] == "local"
    assert result.body["url"].startswith("https://")


def test_truncated_json_is_a_defined_answer(
    secret: dict, images_bucket: str, upstream: FaultServer
) -> None:
    upstream.always(respond(200, '{"DataStatus": {"StatusCode": 100, "Status'))
    result = call_generate()
    assert_defined(result)
    assert result.status in (502, 503)


def test_dripping_body_ends_near_the_deadline(
    secret: dict, images_bucket: str, upstream: FaultServer
) -> None:
    upstream.always(drip(OK, interval=0.15))
    result = within(FUNCTION_TIMEOUT, upstream, call_generate)
    assert_defined(result, 503, "upstream_timeout")


def test_secrets_manager_outage_in_auto_mode_renders_locally(
    images_bucket: str, upstream: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise GetParameterError("injected")

    monkeypatch.setenv("GENERATE_BACKEND", "auto")
    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.get_secret", unavailable)
    result = call_generate()
    assert_defined(result, 200)
    assert result.body["backend"] == "local"
    assert upstream.count == 0


def test_secrets_manager_outage_in_upstream_mode_is_503(
    images_bucket: str, upstream: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise GetParameterError("injected")

    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.get_secret", unavailable)
    result = call_generate()
    assert_defined(result, 503, "upstream_unavailable")


def _throttle(*args: Any, **kwargs: Any) -> Any:
    raise ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}},
        "GetItem",
    )


def test_throttled_url_cache_costs_only_a_miss(
    table: str,
    secret: dict,
    images_bucket: str,
    upstream: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.generate import app

    upstream.always(respond(200, OK))
    cache_client = app.service().cache.client
    monkeypatch.setattr(cache_client, "get_item", _throttle)
    monkeypatch.setattr(cache_client, "put_item", _throttle)
    result = call_generate()
    assert_defined(result, 200)
    assert result.body["backend"] == "upstream"


def test_images_bucket_outage_is_503(
    secret: dict,
    images_bucket: str,
    upstream: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.generate import app

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "ServiceUnavailable", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 503},
            },
            "HeadObject",
        )

    monkeypatch.setenv("GENERATE_BACKEND", "local")
    monkeypatch.setattr(app.service().images.s3, "head_object", unavailable)
    result = call_generate(
        generate_event(type="qrcode", content="hello", width="200", height="200")
    )
    assert_defined(result, 503, "storage_error")
