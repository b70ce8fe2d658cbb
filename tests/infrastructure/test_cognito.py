"""The optional Cognito authorizer: off by default, on with a pool of the stack's or the
operator's; then every lookup, generate and upload route needs a user and the API key.

Asserted on the template as CloudFormation runs it: LanguageExtensions' Fn::If first
(tests/support/language_extensions.py), then the Serverless transform.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.sam import sam_template, transformed_template

POOL_ARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123"
# The contract's public routes: health and the API description (GET, and the `any`
# method that answers their other methods with a 405).
OPEN_ROUTES = {
    (path, method)
    for path in ("/health", "/openapi.json", "/docs", "/docs/{name}")
    for method in ("get", "x-amazon-apigateway-any-method")
}
METHODS = {"get", "post", "put", "patch", "delete", "x-amazon-apigateway-any-method"}


def body(**parameters: str) -> dict[str, Any]:
    api: dict[str, Any] = transformed_template(**parameters)["Resources"]["Api"]
    return dict(api["Properties"]["Body"])


def routes(document: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {
        (path, method): operation.get("security", [])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_off_by_default_api_keys_as_before() -> None:
    document = body()
    assert set(document["components"]["securitySchemes"]) == {"api_key"}
    for route, security in routes(document).items():
        expected = [] if route in OPEN_ROUTES else [{"api_key": []}]
        assert security == expected, route
    conditions = {r.get("Condition") for r in sam_template()["Resources"].values()}
    assert "CreateCognitoUserPool" in conditions  # the pool exists only when asked for


@pytest.mark.parametrize(
    ("parameters", "provider"),
    [
        ({"CreateUserPool": "true"}, {"Fn::GetAtt": ["UserPool", "Arn"]}),
        ({"CognitoUserPoolArn": POOL_ARN}, POOL_ARN),
        ({"CognitoUserPoolArn": POOL_ARN, "CreateUserPool": "true"}, POOL_ARN),  # ARN wins
    ],
)
def test_on_every_route_but_health_needs_a_user_and_the_key(
    parameters: dict[str, str], provider: Any
) -> None:
    document = body(**parameters)
    scheme = document["components"]["securitySchemes"]["CognitoUsers"]
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert scheme["name"] == "Authorization"
    assert scheme["x-amazon-apigateway-authorizer"]["providerARNs"] == [provider]
    found = routes(document)
    assert {"/products/{code}", "/products/lookup", "/scans", "/barcodes", "/uploads"} <= {
        path for path, _ in found
    }
    for route, security in found.items():
        if route in OPEN_ROUTES:
            assert security == [], route
            continue
        # API Gateway enforces both: the user pool token and the usage plan's key.
        assert {name for entry in security for name in entry} == {"CognitoUsers", "api_key"}
    # Preflights stay open (a browser sends them without credentials).
    for item in document["paths"].values():
        assert "security" not in item.get("options", {})


def test_the_stack_made_pool_has_an_app_client_and_is_kept() -> None:
    resources = sam_template()["Resources"]
    pool, client = resources["UserPool"], resources["UserPoolAppClient"]
    assert pool["Condition"] == client["Condition"] == "CreateCognitoUserPool"
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    props = client["Properties"]
    assert props["GenerateSecret"] is False  # a mobile app cannot keep a secret
    assert props["UserPoolId"] == {"Ref": "UserPool"}
    assert "ALLOW_USER_PASSWORD_AUTH" not in props["ExplicitAuthFlows"]
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    outputs = sam_template()["Outputs"]
    assert outputs["UserPoolClientId"]["Condition"] == "CreateCognitoUserPool"
    translated = transformed_template(CreateUserPool="true")["Resources"]
    assert translated["UserPool"]["Type"] == "AWS::Cognito::UserPool"


def test_the_pool_parameter_takes_only_a_user_pool_arn() -> None:
    import re

    pattern = re.compile(sam_template()["Parameters"]["CognitoUserPoolArn"]["AllowedPattern"])
    assert pattern.match("")
    assert pattern.match(POOL_ARN)
    assert not pattern.match("arn:aws:iam::123456789012:role/x")
    assert not pattern.match(POOL_ARN + " ")


def test_a_missing_token_is_a_problem_document_and_browsers_may_send_one() -> None:
    import json

    document = body(CreateUserPool="true")
    unauthorized = document["x-amazon-apigateway-gateway-responses"]["UNAUTHORIZED"]
    assert unauthorized["statusCode"] == "401"
    problem = json.loads(unauthorized["responseTemplates"]["application/json"])
    assert problem["code"] == "unauthorized"
    assert set(problem) >= {"type", "title", "status", "detail", "code"}
    headers = unauthorized["responseParameters"]
    assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
    cors = sam_template()["Resources"]["Api"]["Properties"]["Cors"]["AllowHeaders"]
    assert "Authorization" in cors.strip("'").split(",")


def test_deploys_acknowledge_the_language_extensions_transform() -> None:
    import tomllib

    from tests.support.sam import TEMPLATE

    assert sam_template()["Transform"][0] == "AWS::LanguageExtensions"
    config = tomllib.loads((TEMPLATE.parent / "samconfig.toml").read_text(encoding="utf-8"))
    environments = [env for env in config.values() if isinstance(env, dict)]
    deploys = [env["deploy"]["parameters"] for env in environments if "deploy" in env]
    assert deploys
    for parameters in deploys:
        assert "CAPABILITY_AUTO_EXPAND" in parameters["capabilities"].split()
