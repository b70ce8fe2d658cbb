"""The local gateway does what API Gateway does around `any` methods and compression."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from local.gateway import ApiConfig, Gateway, HttpRequest, Route, compress

KEY = "local-key"
BIG = json.dumps({"types": ["x" * 40] * 100})


class Echo:
    """A function that answers with the method it got, and a big body for /big."""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        body = BIG if event["resource"] == "/big" else json.dumps({"m": event["httpMethod"]})
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}


@pytest.fixture
def gateway() -> Gateway:
    api = ApiConfig(
        logical_id="Api",
        stage="v1",
        api_key_required=True,
        cors={"AllowOrigin": "*", "AllowMethods": "GET,POST,OPTIONS"},
        cors_preflight_needs_key=False,
    )
    routes = [
        Route("Api", "v1", "/things", "GET", "Fn", True),
        Route("Api", "v1", "/things", "ANY", "Fn", True),
        Route("Api", "v1", "/big", "GET", "Fn", True),
    ]
    return Gateway(routes, {"Api": api}, {"Fn": Echo()}, {KEY: "key-1"})  # type: ignore[dict-item]


def call(gateway: Gateway, method: str, target: str, **headers: str) -> Any:
    pairs = [("Host", "127.0.0.1:3000"), ("x-api-key", KEY)]
    pairs += [(name.replace("_", "-"), value) for name, value in headers.items()]
    return gateway.handle(HttpRequest(method, target, pairs))


def test_another_method_goes_to_the_any_route(gateway: Gateway) -> None:
    response = call(gateway, "DELETE", "/v1/things")
    assert json.loads(response.body) == {"m": "DELETE"}


def test_a_preflight_is_answered_by_the_gateway_not_the_any_route(gateway: Gateway) -> None:
    response = call(gateway, "OPTIONS", "/v1/things", Origin="https://app.example")
    assert response.status == 200
    assert response.header("Access-Control-Allow-Methods") == "GET,POST,OPTIONS"
    assert response.body == b""


def test_gzip_when_asked_and_big_enough(gateway: Gateway) -> None:
    response = call(gateway, "GET", "/v1/big", Accept_Encoding="gzip, deflate")
    assert response.header("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in (response.header("Vary") or "")
    assert gzip.decompress(response.body).decode() == BIG


@pytest.mark.parametrize("accept_encoding", [None, "identity", "gzip;q=0", "br"])
def test_no_gzip_unless_accepted(gateway: Gateway, accept_encoding: str | None) -> None:
    headers = {"Accept_Encoding": accept_encoding} if accept_encoding else {}
    response = call(gateway, "GET", "/v1/big", **headers)
    assert response.header("Content-Encoding") is None
    assert response.body.decode() == BIG


def test_small_answers_are_not_compressed(gateway: Gateway) -> None:
    response = call(gateway, "GET", "/v1/things", Accept_Encoding="gzip")
    assert response.header("Content-Encoding") is None


def test_compress_keeps_an_existing_vary() -> None:
    from local.gateway import HttpResponse

    response = compress(HttpResponse(200, [("Vary", "Accept")], b"x" * 2000), "*")
    assert response.header("Vary") == "Accept, Accept-Encoding"
