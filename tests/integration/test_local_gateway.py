"""The local API Gateway: routing, API keys, the proxy event and the proxy response."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.gateway import (
    ApiConfig,
    Gateway,
    HttpRequest,
    Route,
    api_configs,
    api_routes,
    build_event,
    match,
    proxy_to_http,
    serve,
)
from local.lambdas import LocalFunction, function_specs
from local.resources import register_placeholders
from local.template import Resolver, Template

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-local-key"
PNG = b"\x89PNG\r\n\x1a\nfake"

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Handler: app.lambda_handler
    Timeout: 7
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      BinaryMediaTypes: [multipart~1form-data, image~1png]
      Auth:
        ApiKeyRequired: true
        AddApiKeyRequiredToCorsPreflight: false
      Cors:
        AllowOrigin: "'*'"
        AllowMethods: "'GET,POST,OPTIONS'"
        AllowHeaders: "'Content-Type,X-Api-Key'"
      GatewayResponses:
        DEFAULT_4XX:
          ResponseParameters:
            Headers:
              Access-Control-Allow-Origin: "'*'"
        QUOTA_EXCEEDED:
          StatusCode: "429"
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      MemorySize: 256
      Events:
        Health:
          Type: Api
          Properties:
            {RestApiId: !Ref Api, Path: /health, Method: get, Auth: {ApiKeyRequired: false}}
        Product:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/products/{code}", Method: get}
        Batch:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /products/lookup, Method: post}
        Files:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/files/{proxy+}", Method: any}
        Upload:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /upload, Method: post}
  Odd:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/odd/
      Events:
        Image:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /image, Method: get}
        Boom:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /boom, Method: get}
        Bad:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /bad, Method: get}
  Missing:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/missing/
      Events:
        Gone:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /gone, Method: get}
"""

ECHO = """
import json

def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Single": "s"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({
            "event": event,
            "context": {
                "function_name": context.function_name,
                "memory": context.memory_limit_in_mb,
                "arn": context.invoked_function_arn,
                "request_id": context.aws_request_id,
                "remaining": context.get_remaining_time_in_millis(),
            },
        }),
    }
"""

ODD = f"""
import base64

def lambda_handler(event, context):
    if event["resource"] == "/image":
        return {{
            "statusCode": 200,
            "headers": {{"Content-Type": "image/png"}},
            "body": base64.b64encode({PNG!r}).decode(),
            "isBase64Encoded": True,
        }}
    if event["resource"] == "/boom":
        raise RuntimeError("boom")
    return "not a proxy response"
"""


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Gateway, Resolver]:
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    for name, code in (("echo", ECHO), ("odd", ODD)):
        folder = tmp_path / "functions" / name
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(code, encoding="utf-8")
    resolver = Resolver(Template.load(tmp_path / "template.yaml"))
    register_placeholders(resolver)
    specs = function_specs(resolver)
    apis = api_configs(resolver)
    functions = {lid: LocalFunction(spec) for lid, spec in specs.items()}
    gateway = Gateway(api_routes(resolver, specs, apis), apis, functions, {KEY: "key-id-1"})
    return gateway, resolver


def call(
    gateway: Gateway,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    *,
    body: bytes = b"",
    key: str | None = KEY,
) -> tuple[int, dict[str, str], bytes]:
    pairs = [("Host", "127.0.0.1:3000"), *(headers or {}).items()]
    if key is not None:
        pairs.append(("x-api-key", key))
    response = gateway.handle(HttpRequest(method=method, target=target, headers=pairs, body=body))
    return response.status, {k.lower(): v for k, v in response.headers}, response.body


def echoed(body: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(body)
    return data


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


# -- the response ---------------------------------------------------------------------


def test_headers_and_multi_value_headers_are_merged(stack: tuple[Gateway, Resolver]) -> None:
    gateway, _ = stack
    response = gateway.handle(
        HttpRequest("GET", "/v1/health", [("Host", "127.0.0.1:3000")], b"", "127.0.0.1")
    )
    assert response.status == 200
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.header("X-Single") == "s"
    assert response.header("x-amzn-RequestId")


def test_base64_bodies_are_decoded_for_binary_accept_types(
    stack: tuple[Gateway, Resolver],
) -> None:
    gateway, _ = stack
    status, headers, body = call(gateway, "GET", "/v1/image", {"Accept": "image/png"})
    assert status == 200
    assert headers["content-type"] == "image/png"
    assert body == PNG
    # API Gateway leaves the body base64 when the first Accept type is not binary.
    _, _, body = call(gateway, "GET", "/v1/image", {"Accept": "*/*"})
    assert base64.b64decode(body) == PNG


def test_proxy_to_http_directly() -> None:
    response = proxy_to_http(
        {"statusCode": 201, "headers": {"A": "1"}, "body": "x"},
        accept=None,
        binary_media_types=(),
    )
    assert (response.status, response.header("A"), response.body) == (201, "1", b"x")
    response = proxy_to_http(
        {
            "statusCode": 200,
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        },
        accept="application/octet-stream",
        binary_media_types=("*/*",),
    )
    assert response.body == b"\x00\x01"


@pytest.mark.parametrize("target", ["/v1/boom", "/v1/bad", "/v1/gone"])
def test_failing_functions_give_a_bare_502(stack: tuple[Gateway, Resolver], target: str) -> None:
    gateway, _ = stack
    status, headers, body = call(gateway, "GET", target)
    assert status == 502
    assert json.loads(body) == {"message": "Internal server error"}
    assert headers["x-amzn-errortype"] == "InternalServerErrorException"


def test_build_event_strips_the_stage() -> None:
    api = ApiConfig(logical_id="Api", stage="v1")
    route = Route("Api", "v1", "/", "GET", "F", False)
    request = HttpRequest("GET", "/v1", [("Host", "localhost:3000")])
    event = build_event(request, route, {}, api=api)
    assert event["path"] == "/"
    assert event["requestContext"]["path"] == "/v1"
    assert event["requestContext"]["domainName"] == "localhost"


# -- over HTTP ------------------------------------------------------------------------


@pytest.fixture
def server(stack: tuple[Gateway, Resolver]) -> Iterator[str]:
    gateway, _ = stack
    httpd = serve(gateway, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_over_http(server: str) -> None:
    response = requests.get(f"{server}/v1/health", timeout=5)
    assert response.status_code == 200
    assert response.json()["event"]["path"] == "/health"
    response = requests.post(
        f"{server}/v1/products/lookup", json={"codes": ["1"]}, headers={"x-api-key": KEY}, timeout=5
    )
    assert response.status_code == 200
    assert json.loads(response.json()["event"]["body"]) == {"codes": ["1"]}
    response = requests.get(f"{server}/v1/products/1", timeout=5)
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}
    headers = {"Accept": "image/png", "x-api-key": KEY}
    response = requests.get(f"{server}/v1/image", headers=headers, timeout=5)
    assert response.content == PNG
