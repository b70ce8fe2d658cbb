"""Every API route except health and the API description needs a valid `x-api-key`
(enforced by API Gateway).

Checked twice: in the template after the SAM transform (what CloudFormation deploys)
and in the local stack's gateway (what `make run` serves), with stub functions that
record whether a request got through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.sam import transformed_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
OPEN_PATHS = {
    "/health",
    "/openapi.json",
    "/docs",
    "/docs/{name}",
}  # every method: GET answers, others 405
CONTRACT_ROUTES = {
    ("GET", "/products/{code}"),
    ("POST", "/products/lookup"),
    ("GET", "/barcodes"),
    ("POST", "/barcodes"),
    ("GET", "/barcodes/types"),
    ("POST", "/uploads"),
    ("GET", "/uploads/{id}"),
    ("GET", "/health"),
}
SAMPLE_PARAMS = {"code": "6901234567892", "id": "0123456789abcdef"}


@pytest.fixture(scope="module")
def rest_api_body() -> dict[str, Any]:
    """The RestApi's OpenAPI body after the Serverless transform."""
    cfn = transformed_template()
    apis = {
        lid: r for lid, r in cfn["Resources"].items() if r["Type"] == "AWS::ApiGateway::RestApi"
    }
    assert len(apis) == 1, f"expected one REST API, found {sorted(apis)}"
    (api,) = apis.values()
    assert api["Properties"].get("ApiKeySourceType", "HEADER") == "HEADER"
    body: dict[str, Any] = api["Properties"]["Body"]
    return body


def _operations(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
        if method.lower() not in ("options", "parameters")
    }


def test_template_requires_a_key_on_every_route_but_health(rest_api_body: dict[str, Any]) -> None:
    schemes = rest_api_body["components"]["securitySchemes"]
    key_schemes = {
        name
        for name, scheme in schemes.items()
        if scheme == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    }
    assert key_schemes, schemes
    assert rest_api_body.get("x-amazon-apigateway-api-key-source", "HEADER") == "HEADER"
    operations = _operations(rest_api_body)
    assert set(operations) >= CONTRACT_ROUTES - {("GET", "/openapi.json")}
    for route, operation in operations.items():
        security = operation.get("security") or rest_api_body.get("security") or []
        requires_key = any(key_schemes & set(item) for item in security)
        assert requires_key is (route[1] not in OPEN_PATHS), route
        # No other authoriser may stand in for the key (an empty item means "anonymous").
        assert {} not in security, route


def test_template_has_no_catch_all_route_without_a_key(rest_api_body: dict[str, Any]) -> None:
    for (method, path), operation in _operations(rest_api_body).items():
        if path in OPEN_PATHS:
            continue  # its function has nothing but the open GET there: any other is 405
        if "{proxy+}" in path or method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD"):
            assert operation.get("security"), (method, path)


# -- the local gateway ----------------------------------------------------------------


class RecordingFunction:
    """Stands in for a LocalFunction: records the events that got through."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.load_error = None

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


GOOD_KEY = "sEcUrItY-tEsT-kEy-0123456789"


@pytest.fixture(scope="module")
def local_gateway() -> Any:
    gateway_module = pytest.importorskip("local.gateway")
    from local.lambdas import function_specs
    from local.resources import register_placeholders
    from local.stack import locally_off_conditions
    from local.template import Resolver, Template

    template = Template.load(TEMPLATE)
    resolver = Resolver(template, forced_conditions=locally_off_conditions(template))
    register_placeholders(resolver)
    specs = function_specs(resolver)
    apis = gateway_module.api_configs(resolver)
    routes = gateway_module.api_routes(resolver, specs, apis)
    functions = {logical_id: RecordingFunction() for logical_id in specs}
    return gateway_module.Gateway(routes, apis, functions, {GOOD_KEY: "local-key-id"})


def _target(route: Any) -> str:
    path = route.resource
    for name, value in SAMPLE_PARAMS.items():
        path = path.replace("{" + name + "}", value)
    return f"/{route.stage}{path}"


def _send(gateway: Any, route: Any, headers: list[tuple[str, str]]) -> tuple[int, int]:
    from local.gateway import HttpRequest

    function = gateway.functions[route.function]
    before = len(function.events)
    body = b"{}" if route.method in ("POST", "PUT", "PATCH") else b""
    content = [("Content-Type", "application/json")] if body else []
    response = gateway.handle(
        HttpRequest(
            method=route.method, target=_target(route), headers=headers + content, body=body
        )
    )
    return response.status, len(function.events) - before


def test_local_gateway_serves_the_contract_routes(local_gateway: Any) -> None:
    served = {(r.method, r.resource) for r in local_gateway.routes}
    assert served >= CONTRACT_ROUTES


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("x-api-key", "")],
        [("x-api-key", "not-the-key")],
        [("x-api-key", GOOD_KEY.lower())],
        [("x-api-key", GOOD_KEY + " ")],
        [("x-api-key", GOOD_KEY[:-1])],
        [("Authorization", f"Bearer {GOOD_KEY}")],
        [("x-api-key", GOOD_KEY), ("x-api-key", "not-the-key")],
    ],
    ids=["none", "empty", "unknown", "wrong-case", "padded", "prefix", "bearer", "last-wins"],
)
def test_local_gateway_rejects_missing_and_unknown_keys(
    local_gateway: Any, headers: list[tuple[str, str]]
) -> None:
    for route in local_gateway.routes:
        status, invoked = _send(local_gateway, route, headers)
        if route.resource in OPEN_PATHS:
            assert invoked == 1, route
            continue
        assert status == 403, (route, status)
        assert invoked == 0, route


@pytest.mark.parametrize("name", ["x-api-key", "X-API-Key", "X-API-KEY"])
def test_local_gateway_accepts_the_key_under_any_header_case(local_gateway: Any, name: str) -> None:
    for route in local_gateway.routes:
        status, invoked = _send(local_gateway, route, [(name, GOOD_KEY)])
        assert (status, invoked) == (200, 1), route


def test_local_gateway_unknown_paths_do_not_reach_a_function(local_gateway: Any) -> None:
    from local.gateway import HttpRequest

    before = {name: len(f.events) for name, f in local_gateway.functions.items()}
    for target in ("/v1/products", "/v2/health", "/v1/products/1/2", "/v1/uploads/a/b", "/"):
        response = local_gateway.handle(
            HttpRequest(method="GET", target=target, headers=[("x-api-key", GOOD_KEY)])
        )
        assert response.status in (403, 404), target
    after = {name: len(f.events) for name, f in local_gateway.functions.items()}
    assert after == before
