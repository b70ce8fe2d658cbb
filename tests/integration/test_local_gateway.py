"""The local API Gateway: the event it builds, API keys, routing and CORS, as API Gateway does."""

from __future__ import annotations

import base64
import json

import pytest

from local.gateway import (
    Gateway,
    Route,
    api_configs,
    api_routes,
    match,
)
from local.lambdas import function_specs
from local.resources import register_placeholders
from local.template import Resolver, Template
from tests.support.local_gateway_stack import (
    KEY,
    ROOT,
    call,
    echoed,
    gateway_stack,  # noqa: F401 - the `stack` fixture
)

# -- the event ------------------------------------------------------------------------


def test_event_has_the_shape_of_the_recorded_api_gateway_event(
    stack: tuple[Gateway, Resolver],
) -> None:
    gateway, _ = stack
    recorded = json.loads((ROOT / "events" / "api_health.json").read_text(encoding="utf-8"))
    status, _, body = call(gateway, "GET", "/v1/health", {"User-Agent": "t"}, key=None)
    assert status == 200
    event = echoed(body)["event"]
    assert set(event) == set(recorded)
    assert set(event["requestContext"]) == set(recorded["requestContext"])
    assert set(event["requestContext"]["identity"]) == set(recorded["requestContext"]["identity"])
    assert event["resource"] == "/health"
    assert event["path"] == "/health"
    assert event["httpMethod"] == "GET"
    assert event["requestContext"]["path"] == "/v1/health"
    assert event["requestContext"]["stage"] == "v1"
    assert event["requestContext"]["resourcePath"] == "/health"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["identity"]["apiKey"] is None  # open route
    assert event["queryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    assert event["headers"]["User-Agent"] == "t"
    assert event["multiValueHeaders"]["User-Agent"] == ["t"]
    assert "X-Forwarded-For" in event["headers"]


def test_path_and_query_parameters(stack: tuple[Gateway, Resolver]) -> None:
    gateway, _ = stack
    status, _, body = call(gateway, "GET", "/v1/products/690%201234?a=1&a=2&b=&c=x%20y")
    assert status == 200
    event = echoed(body)["event"]
    assert event["resource"] == "/products/{code}"
    assert event["pathParameters"] == {"code": "690 1234"}
    assert event["queryStringParameters"] == {"a": "2", "b": "", "c": "x y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""], "c": ["x y"]}
    assert event["requestContext"]["identity"]["apiKey"] == KEY
    assert event["requestContext"]["identity"]["apiKeyId"] == "key-id-1"


def test_lambda_context_is_passed(stack: tuple[Gateway, Resolver]) -> None:
    gateway, _ = stack
    context = echoed(call(gateway, "GET", "/v1/health", key=None)[2])["context"]
    assert context["function_name"] == "barcode-local-Echo"
    assert context["memory"] == 256
    assert context["arn"].endswith(":function:barcode-local-Echo")
    assert 0 < context["remaining"] <= 7000
    assert len(context["request_id"]) == 36


def test_binary_bodies_are_base64_and_text_bodies_are_not(
    stack: tuple[Gateway, Resolver],
) -> None:
    gateway, _ = stack
    multipart = b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n--x--\r\n'
    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    event = echoed(call(gateway, "POST", "/v1/upload", headers, body=multipart)[2])["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == multipart

    headers = {"Content-Type": "application/json"}
    event = echoed(call(gateway, "POST", "/v1/upload", headers, body=b'{"a": 1}')[2])["event"]
    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"a": 1}'


# -- API keys and routing ----------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "wrong"])
def test_a_missing_or_unknown_key_is_forbidden(
    stack: tuple[Gateway, Resolver], key: str | None
) -> None:
    gateway, _ = stack
    status, headers, body = call(gateway, "GET", "/v1/products/6901234567892", key=key)
    assert status == 403
    assert json.loads(body) == {"message": "Forbidden"}
    assert headers["access-control-allow-origin"] == "*"  # from GatewayResponses DEFAULT_4XX


def test_an_unknown_route_is_missing_authentication_token(
    stack: tuple[Gateway, Resolver],
) -> None:
    gateway, _ = stack
    for target in ("/v1/nope", "/v2/health", "/health", "/"):
        status, _, body = call(gateway, "GET", target)
        assert status == 403, target
        assert json.loads(body) == {"message": "Missing Authentication Token"}


def test_literal_segments_win_over_parameters(stack: tuple[Gateway, Resolver]) -> None:
    gateway, _ = stack
    status, _, body = call(gateway, "POST", "/v1/products/lookup", body=b"{}")
    assert status == 200
    assert echoed(body)["event"]["resource"] == "/products/lookup"
    # Like API Gateway: the literal resource has no GET, so there is no fallback to {code}.
    status, _, body = call(gateway, "GET", "/v1/products/lookup")
    assert status == 403
    assert json.loads(body) == {"message": "Missing Authentication Token"}


def test_greedy_path_and_any_method(stack: tuple[Gateway, Resolver]) -> None:
    gateway, _ = stack
    status, _, body = call(gateway, "DELETE", "/v1/files/a/b%20c.txt")
    assert status == 200
    event = echoed(body)["event"]
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b c.txt"}
    assert event["httpMethod"] == "DELETE"


def test_match_ranks_resources() -> None:
    routes = [
        Route("Api", "v1", "/products/{code}", "GET", "F", True),
        Route("Api", "v1", "/products/lookup", "POST", "F", True),
        Route("Api", "v1", "/{proxy+}", "ANY", "F", True),
    ]
    found = match(routes, "v1", "/products/123")
    assert found is not None
    assert found.resource == "/products/{code}"
    assert found.path_parameters == {"code": "123"}
    found = match(routes, "v1", "/x/y")
    assert found is not None
    assert found.resource == "/{proxy+}"
    assert match(routes, "v2", "/products/123") is None


def test_cors_preflight_needs_no_key(stack: tuple[Gateway, Resolver]) -> None:
    gateway, _ = stack
    status, headers, _ = call(gateway, "OPTIONS", "/v1/products/1", key=None)
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "GET,POST,OPTIONS"
    assert headers["access-control-allow-headers"] == "Content-Type,X-Api-Key"


def test_api_settings_come_from_the_template(stack: tuple[Gateway, Resolver]) -> None:
    _, resolver = stack
    api = api_configs(resolver)["Api"]
    assert api.stage == "v1"
    assert api.binary_media_types == ("multipart/form-data", "image/png")
    assert api.api_key_required is True
    assert api.cors_preflight_needs_key is False


def test_project_template_routes_follow_the_contract() -> None:
    """Health and the API description are open, every other route needs a key."""
    resolver = Resolver(Template.load(ROOT / "template.yaml"))
    register_placeholders(resolver)
    specs = function_specs(resolver)
    routes = api_routes(resolver, specs, api_configs(resolver))
    assert routes
    for route in routes:
        assert route.stage == "v1"
        assert route.api_key_required is (
            route.resource not in ("/health", "/openapi.json", "/docs", "/docs/{name}")
        )
