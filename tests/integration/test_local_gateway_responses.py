"""The local API Gateway: responses (headers, binary bodies, failures) and real HTTP."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator

import pytest
import requests

from local.gateway import (
    ApiConfig,
    Gateway,
    HttpRequest,
    Route,
    build_event,
    proxy_to_http,
    serve,
)
from local.template import Resolver
from tests.support.local_gateway_stack import (
    KEY,
    PNG,
    call,
    gateway_stack,  # noqa: F401 - the `stack` fixture
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
