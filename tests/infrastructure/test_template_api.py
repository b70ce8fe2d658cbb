"""The transformed template's API: routes, keys, CORS, gateway responses, throttles, usage plan."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.template_facts import (
    GENERATE_ROUTES,
    LOOKUP_ROUTES,
    PUBLIC_PATHS,
    ROUTES,
    Resources,
    default,
    of_type,
    ref,
)

# ---------------------------------------------------------------- API


@pytest.fixture(scope="module")
def body(resources: Resources) -> dict[str, Any]:
    api = resources["Api"]
    assert api["Type"] == "AWS::ApiGateway::RestApi"
    document: dict[str, Any] = api["Properties"]["Body"]
    return document


@pytest.fixture(scope="module")
def stage(resources: Resources) -> dict[str, Any]:
    stages = of_type(resources, "AWS::ApiGateway::Stage")
    assert list(stages) == ["Apiv1Stage"], "one stage only (no SAM 'Stage' stage)"
    properties: dict[str, Any] = stages["Apiv1Stage"]["Properties"]
    assert properties["StageName"] == "v1"
    return properties


def operations(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
        if method not in ("options", "x-amazon-apigateway-any-method")
    }


def test_routes_go_to_their_functions(sam_template: dict[str, Any]) -> None:
    for function, routes in ROUTES.items():
        events = sam_template["Resources"][function]["Properties"]["Events"].values()
        declared = {
            (e["Properties"]["Method"].upper(), e["Properties"]["Path"])
            for e in events
            if e["Type"] == "Api" and e["Properties"]["Method"] != "any"  # any: the 405s
        }
        assert declared == routes, function
        assert all(ref(e["Properties"]["RestApiId"]) == "Api" for e in events if e["Type"] == "Api")


def test_api_key_on_every_route_but_health(body: dict[str, Any]) -> None:
    scheme = body["components"]["securitySchemes"]["api_key"]
    assert scheme == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    ops = operations(body)
    assert set(ops) == set().union(*ROUTES.values())
    for (method, path), operation in ops.items():
        requires_key = any("api_key" in item for item in operation.get("security", []))
        assert requires_key is (path not in PUBLIC_PATHS), (method, path)


def test_cors_preflight_needs_no_key(body: dict[str, Any]) -> None:
    for path, methods in body["paths"].items():
        assert "options" in methods, path
        assert not methods["options"].get("security"), path


def test_gateway_responses_keep_cors_and_retry_after(body: dict[str, Any]) -> None:
    responses = body["x-amazon-apigateway-gateway-responses"]
    for kind in ("DEFAULT_5XX", "THROTTLED", "QUOTA_EXCEEDED"):
        headers = responses[kind]["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'", kind
        assert "Retry-After" in headers["gatewayresponse.header.Access-Control-Expose-Headers"]
    for kind in ("THROTTLED", "QUOTA_EXCEEDED"):
        assert responses[kind]["statusCode"] == "429"
        assert "gatewayresponse.header.Retry-After" in responses[kind]["responseParameters"]
        problem = json.loads(responses[kind]["responseTemplates"]["application/json"])
        assert problem["status"] == 429
        assert set(problem) >= {"type", "title", "status", "detail", "code"}


def test_binary_media_types_cover_multipart_bodies(body: dict[str, Any]) -> None:
    assert "multipart/form-data" in body["x-amazon-apigateway-binary-media-types"]
    assert "*/*" not in body["x-amazon-apigateway-binary-media-types"]


def test_stage_throttles_each_route_at_its_upstream_rate(
    sam_template: dict[str, Any], stage: dict[str, Any], body: dict[str, Any]
) -> None:
    settings = {
        (s["HttpMethod"], s["ResourcePath"]): (
            ref(s["ThrottlingRateLimit"]),
            ref(s["ThrottlingBurstLimit"]),
        )
        for s in stage["MethodSettings"]
    }
    assert settings.pop(("*", "/*")) == ("ApiRateLimit", "ApiBurstLimit")
    expected = dict.fromkeys(GENERATE_ROUTES, ("GenerateRateLimit", "GenerateBurstLimit"))
    expected |= dict.fromkeys(LOOKUP_ROUTES, ("LookupRateLimit", "LookupBurstLimit"))
    # Label sheets are seconds of CPU each: throttled on their own.
    expected[("POST", "/labels")] = ("LabelsRateLimit", "LabelsBurstLimit")
    # "/~1barcodes~1types" is /barcodes/types: a leading "/", then the path with "/" as "~1".
    decoded = {
        (method, path.removeprefix("/").replace("~1", "/")): limits
        for (method, path), limits in settings.items()
    }
    assert decoded == expected
    assert set(decoded) <= set(operations(body)), "method settings name real routes"

    assert default(sam_template, "GenerateRateLimit") == 100  # the generation upstream's limit
    assert default(sam_template, "LookupRateLimit") == 20
    for rate, burst in (
        ("GenerateRateLimit", "GenerateBurstLimit"),
        ("LookupRateLimit", "LookupBurstLimit"),
        ("ApiRateLimit", "ApiBurstLimit"),
        ("UsagePlanRateLimit", "UsagePlanBurstLimit"),
    ):
        assert default(sam_template, burst) <= default(sam_template, rate), burst


def test_stage_has_json_access_logs_and_tracing(
    resources: Resources, stage: dict[str, Any]
) -> None:
    condition, log_setting, otherwise = stage["AccessLogSetting"]["Fn::If"]
    assert condition == "HasAccessLogs"
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert resources["ApiAccessLogGroup"]["Condition"] == "HasAccessLogs"
    assert log_setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    record = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "0", log_setting["Format"]))
    assert {"requestId", "status", "apiKeyId", "resourcePath"} <= set(record)
    assert "RetentionInDays" in resources["ApiAccessLogGroup"]["Properties"]
    # Stage segments would record /uploads/{id} URLs: the functions are traced instead.
    assert stage["TracingEnabled"] is False
    assert "$context.path" not in log_setting["Format"]


def test_usage_plan_with_throttle_quota_and_one_key(
    resources: Resources, cfn: dict[str, Any]
) -> None:
    (plan,) = of_type(resources, "AWS::ApiGateway::UsagePlan").values()
    props = plan["Properties"]
    assert props["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Apiv1Stage"}}]
    assert ref(props["Throttle"]["RateLimit"]) == "UsagePlanRateLimit"
    assert ref(props["Throttle"]["BurstLimit"]) == "UsagePlanBurstLimit"
    assert ref(props["Quota"]["Limit"]) == "UsagePlanMonthlyQuota"
    assert props["Quota"]["Period"] == "MONTH"

    (key_id,) = of_type(resources, "AWS::ApiGateway::ApiKey")
    assert resources[key_id]["Properties"]["Enabled"] is True
    (link,) = of_type(resources, "AWS::ApiGateway::UsagePlanKey").values()
    assert link["Properties"] == {
        "KeyId": {"Ref": key_id},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": "MobileAppUsagePlan"},
    }
    assert cfn["Outputs"]["ApiKeyId"]["Value"] == {"Ref": key_id}
