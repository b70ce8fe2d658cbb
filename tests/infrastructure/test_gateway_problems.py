"""API Gateway's own answers are problems in the service's shape, and the local gateway
answers with the same ones; every documented path also answers 405 for other methods."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from barcode_service.errors import PROBLEM_TYPE_BASE
from local.gateway import MIN_COMPRESSION_SIZE, Gateway, HttpRequest, api_configs
from local.resources import register_placeholders
from local.template import Resolver, Template

ROOT = Path(__file__).resolve().parents[2]

# Every gateway response type API Gateway has (its developer guide's list).
RESPONSE_TYPES = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 502,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 502,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}


def _api(sam_template: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = sam_template["Resources"]["Api"]["Properties"]
    return props


def _problem(template: str) -> dict[str, Any]:
    text = template.replace("$context.error.messageString", json.dumps("a message"))
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_every_gateway_response_type_is_a_problem(sam_template: dict[str, Any]) -> None:
    responses = _api(sam_template)["GatewayResponses"]
    assert set(responses) == set(RESPONSE_TYPES)
    for kind, entry in responses.items():
        status = int(entry["StatusCode"])
        assert status == RESPONSE_TYPES[kind], kind
        headers = entry["ResponseParameters"]["Headers"]
        assert headers["Content-Type"] == "'application/problem+json'", kind
        assert headers["Access-Control-Allow-Origin"] == "'*'", kind
        assert headers["Content-Language"] == "'en'", kind
        problem = _problem(entry["ResponseTemplates"]["application/json"])
        assert set(problem) == {"type", "title", "status", "detail", "code"}, kind
        assert problem["status"] == status, kind
        assert problem["type"] == PROBLEM_TYPE_BASE + problem["code"], kind
        assert problem["code"].replace("_", "").isalpha(), kind
        if status in (429, 503) or kind in ("DEFAULT_5XX", "INTEGRATION_FAILURE"):
            assert int(headers["Retry-After"].strip("'")) >= 1, kind
            assert "Retry-After" in headers["Access-Control-Expose-Headers"], kind


def test_the_api_compresses_like_the_local_gateway(sam_template: dict[str, Any]) -> None:
    assert _api(sam_template)["MinimumCompressionSize"] == MIN_COMPRESSION_SIZE == 1024


def test_every_path_answers_other_methods_through_its_function(
    sam_template: dict[str, Any],
) -> None:
    by_path: dict[str, set[tuple[str, str]]] = {}
    for logical_id, resource in sam_template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                props = event["Properties"]
                by_path.setdefault(props["Path"], set()).add((props["Method"], logical_id))
    for path, methods in by_path.items():
        owners = {owner for _, owner in methods}
        assert len(owners) == 1, path  # one function owns a path, its 405 included
        assert ("any", owners.pop()) in methods, f"{path} has no `any` method for 405"


@pytest.fixture(scope="module")
def project_gateway() -> Gateway:
    resolver = Resolver(Template.load(ROOT / "template.yaml"))
    register_placeholders(resolver)
    return Gateway([], api_configs(resolver), {}, {})


@pytest.mark.parametrize("target", ["/", "/nothing", "/v2/health", "/v1/nope"])
def test_local_paths_outside_the_api_are_the_templates_problem(
    project_gateway: Gateway, target: str
) -> None:
    response = project_gateway.handle(HttpRequest("GET", target, [("Host", "127.0.0.1")]))
    assert response.status == 404
    assert response.header("Content-Type") == "application/problem+json"
    problem = json.loads(response.body)
    assert problem == {
        "type": PROBLEM_TYPE_BASE + "not_found",
        "title": "Not found",
        "status": 404,
        "detail": "no such route or method",
        "code": "not_found",
    }


def test_browsers_may_send_the_headers_the_api_reads(sam_template: dict[str, Any]) -> None:
    # If-None-Match (304s) is not a CORS-safelisted header, and Accept-Language is not for
    # every value: the preflight must allow both, as the functions' CORS config does.
    from barcode_service.api import CORS

    allowed = _api(sam_template)["Cors"]["AllowHeaders"].strip("'").lower().split(",")
    assert {"if-none-match", "accept-language", "x-api-key", "content-type"} <= set(allowed)
    # Powertools adds the AWS signing headers (X-Amz-*) on its own; the rest must match.
    ours = {h.lower() for h in CORS.allow_headers if not h.lower().startswith("x-amz-")}
    assert ours <= set(allowed)
