"""A toy template, its functions and a local Gateway over them, for the local gateway tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.gateway import (
    Gateway,
    HttpRequest,
    api_configs,
    api_routes,
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


@pytest.fixture(name="stack")
def gateway_stack(tmp_path: Path) -> tuple[Gateway, Resolver]:
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
