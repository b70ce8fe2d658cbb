"""Functions that CloudFront serves through their function URL, served locally the same way.

A function with `FunctionUrlConfig` and a `Metadata.CloudFrontPathPattern` (e.g.
`/img/*`) is reachable in AWS only through CloudFront at that path. Locally the
gateway's HTTP server answers that path itself (no stage, no API key: CloudFront does
not ask for one), with a Lambda function URL event (payload format 2.0), and turns
the function's answer back into HTTP as a function URL does: `isBase64Encoded`
bodies are always decoded (there are no binary media types to match).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .lambdas import FunctionSpec
from .template import Template

METADATA_KEY = "CloudFrontPathPattern"


@dataclass(frozen=True)
class UrlRoute:
    """A path prefix CloudFront sends to one function's URL."""

    prefix: str  # e.g. "/img/"
    function: str  # logical id


def url_routes(template: Template, specs: Mapping[str, FunctionSpec]) -> list[UrlRoute]:
    """The CloudFront paths of the active functions that have a function URL."""
    routes = []
    for logical_id in specs:
        resource = template.resources.get(logical_id) or {}
        pattern = (resource.get("Metadata") or {}).get(METADATA_KEY)
        has_url = "FunctionUrlConfig" in (resource.get("Properties") or {})
        if has_url and isinstance(pattern, str) and pattern.endswith("*"):
            routes.append(UrlRoute(prefix=pattern[:-1], function=logical_id))
    return routes


def find_route(routes: list[UrlRoute], path: str) -> UrlRoute | None:
    return next((r for r in routes if path.startswith(r.prefix)), None)


def url_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str,
    account_id: str,
) -> dict[str, Any]:
    """The Lambda function URL event (payload 2.0) for one HTTP request."""
    split = urlsplit(target)
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    now = time.time()
    encoded = bool(body)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": joined,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": account_id,
            "apiId": "local-function-url",
            "domainName": joined.get("host", "127.0.0.1"),
            "domainPrefix": "local-function-url",
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode("ascii") if encoded else None,
        "isBase64Encoded": encoded,
    }


def url_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a function URL answer; ValueError when malformed."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A function URL turns any other JSON value into a 200 application/json body.
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    status = int(result["statusCode"])
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    raw = result.get("body") or ""
    if not isinstance(raw, str):
        raise ValueError("body is not a string")
    if result.get("isBase64Encoded"):
        try:
            return status, headers, base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("body is not valid base64") from None
    return status, headers, raw.encode("utf-8")
