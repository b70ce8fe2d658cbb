"""A local API Gateway (REST API, Lambda proxy integration) built from the template.

Routes come from the `Type: Api` events of the template's functions, under each API's
stage (`/v1/...`). For every request it does what API Gateway does before and after the
Lambda call: pick the most specific resource, enforce `x-api-key` (usage plan), answer
CORS preflights, build the REST proxy event, and turn the proxy response back into HTTP,
with API Gateway's own error answers (and the template's `GatewayResponses`) for a
missing route, a bad key or a failing function.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .function_urls import UrlRoute, find_route, url_event, url_response
from .lambdas import FunctionSpec, LocalFunction
from .resources import API_TYPES, IMPLICIT_API
from .template import Resolver

log = logging.getLogger("local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
DEFAULT_DOMAIN = "127.0.0.1:3000"  # where `make run` serves, unless told otherwise
MIN_COMPRESSION_SIZE = 1024  # the template's MinimumCompressionSize
IMPLICIT_STAGE = "Prod"  # SAM's stage for the implicit API
OPEN_BY_DEFAULT = ("/health",)  # contract: the only route without an API key

# API Gateway's built-in answers: (status, body, x-amzn-ErrorType).
_DEFAULT_RESPONSES: dict[str, tuple[int, dict[str, str], str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (
        403,
        {"message": "Missing Authentication Token"},
        "MissingAuthenticationTokenException",
    ),
    "INVALID_API_KEY": (403, {"message": "Forbidden"}, "ForbiddenException"),
    "REQUEST_TOO_LARGE": (413, {"message": "Request Too Long"}, "RequestTooLongException"),
    "DEFAULT_4XX": (400, {"message": "Bad Request"}, "BadRequestException"),
    "DEFAULT_5XX": (502, {"message": "Internal server error"}, "InternalServerErrorException"),
}


@dataclass(frozen=True)
class ApiConfig:
    """The parts of an API resource that change request handling."""

    logical_id: str
    stage: str
    binary_media_types: tuple[str, ...] = ()
    api_key_required: bool | None = None
    cors: Mapping[str, str] | None = None
    cors_preflight_needs_key: bool = True
    gateway_responses: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One method on one resource path, integrated with one function."""

    api: str
    stage: str
    resource: str
    method: str
    function: str
    api_key_required: bool

    @property
    def segments(self) -> tuple[str, ...]:
        return _segments(self.resource)


@dataclass
class HttpRequest:
    method: str
    target: str  # path and query as received, e.g. "/v1/products/123?x=1"
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        """The last value of a header, case-insensitively (what API Gateway keeps)."""
        found = None
        for key, value in self.headers:
            if key.lower() == name.lower():
                found = value
        return found


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


# -- reading the template ----------------------------------------------------------


def api_configs(resolver: Resolver) -> dict[str, ApiConfig]:
    """Every API of the template (and SAM's implicit one) with its stage and settings."""
    template = resolver.template
    defaults = template.globals_for("Api")
    configs: dict[str, ApiConfig] = {}
    for logical_id, resource in template.resources_of_type(*API_TYPES).items():
        props = resource.get("Properties") or {}
        configs[logical_id] = _api_config(resolver, logical_id, {**defaults, **props})
    if IMPLICIT_API not in configs:
        configs[IMPLICIT_API] = _api_config(
            resolver, IMPLICIT_API, {"StageName": IMPLICIT_STAGE, **defaults}
        )
    return configs


def _api_config(resolver: Resolver, logical_id: str, props: dict[str, Any]) -> ApiConfig:
    # Only the settings that matter locally: the rest (access logs...) has no local value.
    wanted = ("StageName", "Auth", "Cors", "BinaryMediaTypes", "GatewayResponses")
    resolved = resolver.resolve({k: props[k] for k in wanted if k in props}) or {}
    auth = resolved.get("Auth") or {}
    cors = resolved.get("Cors")
    if isinstance(cors, str):
        cors = {"AllowOrigin": cors}
    required = auth.get("ApiKeyRequired")
    return ApiConfig(
        logical_id=logical_id,
        stage=str(resolved.get("StageName") or IMPLICIT_STAGE),
        # The template escapes "/" as "~1" in media types (OpenAPI pointer syntax).
        binary_media_types=tuple(
            str(t).replace("~1", "/").lower() for t in resolved.get("BinaryMediaTypes") or ()
        ),
        api_key_required=None if required is None else _true(required),
        cors={str(k): _unquote(v) for k, v in cors.items()} if isinstance(cors, dict) else None,
        cors_preflight_needs_key=_true(auth.get("AddApiKeyRequiredToCorsPreflight", True)),
        gateway_responses=resolved.get("GatewayResponses") or {},
    )


def api_routes(
    resolver: Resolver, specs: Mapping[str, FunctionSpec], apis: Mapping[str, ApiConfig]
) -> list[Route]:
    """The routes declared by the functions' `Type: Api` events."""
    routes: list[Route] = []
    for spec in specs.values():
        for event_name, event in spec.events.items():
            if not isinstance(event, dict) or event.get("Type") != "Api":
                continue
            raw = event.get("Properties") or {}
            api_id = _logical_id(raw.get("RestApiId")) or IMPLICIT_API
            api = apis.get(api_id)
            if api is None:
                resolver.warn(f"{spec.logical_id}.{event_name}: API {api_id} is not local")
                continue
            props = resolver.resolve(raw) or {}
            resource = "/" + str(props.get("Path", "/")).strip("/")
            required = (props.get("Auth") or {}).get("ApiKeyRequired")
            if required is not None:
                key_required = _true(required)
            elif api.api_key_required is not None:
                key_required = api.api_key_required
            else:
                # Nothing in the template says: follow the contract (keys everywhere).
                key_required = not resource.endswith(OPEN_BY_DEFAULT)
            routes.append(
                Route(
                    api=api_id,
                    stage=api.stage,
                    resource=resource,
                    method=str(props.get("Method", "any")).upper(),
                    function=spec.logical_id,
                    api_key_required=key_required,
                )
            )
    return routes


def _logical_id(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def _true(value: Any) -> bool:
    return str(value).lower() == "true"


def _unquote(value: Any) -> str:
    """CORS values in SAM are quoted string literals: "'*'" -> "*"."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


# -- matching ---------------------------------------------------------------------


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


def _segment_rank(segment: str) -> int:
    if segment.endswith("+}"):
        return 2
    return 1 if segment.startswith("{") else 0


def _match(template: tuple[str, ...], parts: tuple[str, ...]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, segment in enumerate(template):
        if segment.endswith("+}"):
            rest = parts[index:]
            if not rest:
                return None
            params[segment[1:-2]] = unquote("/".join(rest))
            return params
        if index >= len(parts):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            params[segment[1:-1]] = unquote(parts[index])
        elif segment != parts[index]:
            return None
    return params if len(template) == len(parts) else None


@dataclass(frozen=True)
class Match:
    """The resource a path selects: its routes (all methods) and path parameters."""

    resource: str
    routes: tuple[Route, ...]
    path_parameters: dict[str, str]

    def route_for(self, method: str) -> Route | None:
        exact = [r for r in self.routes if r.method == method]
        candidates = exact or [r for r in self.routes if r.method == "ANY"]
        return candidates[0] if candidates else None


def match(routes: list[Route], stage: str, path: str) -> Match | None:
    """The most specific resource of `stage` matching `path` (API Gateway's order:
    literal segments before `{param}` before `{greedy+}`)."""
    parts = _segments(path)
    best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
    for resource in {r.resource for r in routes if r.stage == stage}:
        template = _segments(resource)
        params = _match(template, parts)
        if params is None:
            continue
        rank = tuple(_segment_rank(s) for s in template)
        if best is None or rank < best[0]:
            best = (rank, resource, params)
    if best is None:
        return None
    _, resource, params = best
    chosen = tuple(r for r in routes if r.stage == stage and r.resource == resource)
    return Match(resource=resource, routes=chosen, path_parameters=params)


# -- the proxy event and response --------------------------------------------------


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _is_binary(media_type: str, binary_types: tuple[str, ...]) -> bool:
    if not media_type:
        return False
    major = media_type.split("/", 1)[0]
    return any(t in (media_type, f"{major}/*", "*/*") for t in binary_types)


def build_event(
    request: HttpRequest,
    route: Route,
    path_parameters: Mapping[str, str],
    *,
    api: ApiConfig,
    api_key: str | None = None,
    api_key_id: str | None = None,
    account_id: str = "123456789012",
    request_id: str | None = None,
    now: datetime | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event API Gateway sends for `request`.

    `domain` is where the gateway serves (`host:port`): the event's `domainName` is it, as
    API Gateway's is its own domain, whatever `Host` the client sent (the header passes
    through as sent; the service builds links from `domainName` only). Locally it keeps
    its port, which AWS's never needs. Without `domain`, the `Host` header's name.
    """
    split = urlsplit(request.target)
    stage_prefix = f"/{route.stage}"
    path = split.path[len(stage_prefix) :] if split.path.startswith(stage_prefix) else split.path
    path = path or "/"
    headers = list(request.headers)
    names = {k.lower() for k, _ in headers}
    trace_id = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    host = domain or request.header("Host") or "127.0.0.1"
    # Headers API Gateway adds in front of the integration.
    for name, value in (
        ("X-Amzn-Trace-Id", trace_id),
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", host.rpartition(":")[2] if ":" in host else "80"),
        ("X-Forwarded-Proto", "http"),
    ):
        if name.lower() not in names:
            headers.append((name, value))
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in headers:
        single[key] = value
        multi.setdefault(key, []).append(value)

    query = parse_qsl(split.query, keep_blank_values=True)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for key, value in query:
        query_single[key] = value
        query_multi.setdefault(key, []).append(value)

    body: str | None = None
    encoded = False
    if request.body:
        content_type = _media_type(request.header("Content-Type"))
        if _is_binary(content_type, api.binary_media_types):
            body, encoded = base64.b64encode(request.body).decode("ascii"), True
        else:
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                body, encoded = base64.b64encode(request.body).decode("ascii"), True

    now = now or datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    user_agent = request.header("User-Agent")
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.resource).hex[:6],
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode("ascii"),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": split.path,
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": route.stage,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
                "apiKey": api_key,
                "apiKeyId": api_key_id,
            },
            "domainName": domain or host.split(":", 1)[0],
            "apiId": "localapi01",
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


class MalformedProxyResponse(ValueError):
    """The function's answer is not a Lambda proxy response (API Gateway answers 502)."""


def proxy_to_http(
    result: Any, *, accept: str | None, binary_media_types: tuple[str, ...]
) -> HttpResponse:
    """The HTTP response API Gateway makes from a Lambda proxy response."""
    if not isinstance(result, dict):
        raise MalformedProxyResponse(f"response is a {type(result).__name__}, not an object")
    try:
        status = int(result.get("statusCode", 200))
    except (TypeError, ValueError):
        raise MalformedProxyResponse("statusCode is not an integer") from None
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise MalformedProxyResponse("headers must be objects")
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    # A key in both maps: the multiValueHeaders values win, as in API Gateway.
    seen = {name.lower() for name in multi}
    headers.extend((str(k), str(v)) for k, v in single.items() if k.lower() not in seen)

    raw = result.get("body")
    text = "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw)
    body = text.encode("utf-8")
    if result.get("isBase64Encoded"):
        # API Gateway only decodes when the client's first Accept type is a binary media
        # type; otherwise the client gets the base64 text, as it would in AWS.
        first_accept = _media_type((accept or "").split(",", 1)[0])
        if _is_binary(first_accept, binary_media_types):
            try:
                body = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise MalformedProxyResponse("body is not valid base64") from None
        else:
            log.warning(
                "a base64 body went out as text: Accept %r is not one of the API's "
                "BinaryMediaTypes %s",
                accept,
                list(binary_media_types),
            )
    return HttpResponse(status=status, headers=headers, body=body)


# -- compression ----------------------------------------------------------------------


def _accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (q-values honoured, `*` counts)."""
    allowed: dict[str, float] = {}
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if coding.strip():
            allowed[coding.strip().lower()] = quality
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", 0.0))) > 0


def compress(response: HttpResponse, accept_encoding: str | None) -> HttpResponse:
    """What the REST API's MinimumCompressionSize (1024) does: gzip a body of at least
    that size when the client accepts gzip, with `Vary: Accept-Encoding`."""
    if (
        len(response.body) < MIN_COMPRESSION_SIZE
        or response.header("Content-Encoding")
        or not _accepts_gzip(accept_encoding)
    ):
        return response
    headers = [(k, v) for k, v in response.headers if k.lower() != "vary"]
    vary = [v for k, v in response.headers if k.lower() == "vary"]
    headers.append(("Vary", ", ".join([*vary, "Accept-Encoding"])))
    headers.append(("Content-Encoding", "gzip"))
    return HttpResponse(response.status, headers, gzip.compress(response.body, mtime=0))


# -- the gateway --------------------------------------------------------------------


class Gateway:
    """Routes HTTP requests to the functions the way API Gateway would."""

    def __init__(
        self,
        routes: list[Route],
        apis: Mapping[str, ApiConfig],
        functions: Mapping[str, LocalFunction],
        api_keys: Mapping[str, str],
        *,
        account_id: str = "123456789012",
        url_routes: list[UrlRoute] | None = None,
        domain: str = DEFAULT_DOMAIN,
    ) -> None:
        self.domain = domain  # host:port this gateway serves at (the stack sets it once bound)
        self.routes = routes
        self.apis = apis
        self.functions = functions
        self.api_keys = dict(api_keys)  # key value -> key id
        self.account_id = account_id
        self.url_routes = url_routes or []  # CloudFront paths to function URLs

    @property
    def stages(self) -> list[str]:
        return sorted({r.stage for r in self.routes})

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request; never raises."""
        request_id = str(uuid.uuid4())
        try:
            response = self._handle(request, request_id)
        except Exception:
            log.exception("the local gateway failed on %s %s", request.method, request.target)
            response = self._gateway_response(None, "DEFAULT_5XX", request_id)
        response.headers.append(("x-amzn-RequestId", request_id))
        if not find_route(self.url_routes, urlsplit(request.target).path):
            response = compress(response, request.header("Accept-Encoding"))
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        path = urlsplit(request.target).path
        url_route = find_route(self.url_routes, path)
        if url_route is not None:
            return self._function_url(url_route, request)
        parts = _segments(path)
        stage = parts[0] if parts else ""
        found = match(self.routes, stage, "/".join(parts[1:])) if stage else None
        if found is None:
            # An unknown path under a stage still belongs to that stage's API: its
            # GatewayResponses apply, as in AWS.
            staged = [api for api in self.apis.values() if api.stage == stage]
            owner = staged[0] if len(staged) == 1 else self._customised_api()
            return self._gateway_response(owner, "MISSING_AUTHENTICATION_TOKEN", request_id)
        api = self.apis[found.routes[0].api]
        if len(request.body) > MAX_BODY_BYTES:
            return self._gateway_response(api, "REQUEST_TOO_LARGE", request_id)
        route = found.route_for(request.method)
        if (
            request.method == "OPTIONS"
            and api.cors is not None
            and (route is None or route.method == "ANY")
        ):
            # SAM adds a mock OPTIONS method to every path: it wins over an ANY method.
            return self._preflight(api, found, request, request_id)
        if route is None:
            return self._gateway_response(api, "MISSING_AUTHENTICATION_TOKEN", request_id)

        api_key = api_key_id = None
        if route.api_key_required:
            api_key = request.header("x-api-key")
            api_key_id = self.api_keys.get(api_key or "")
            if api_key_id is None:
                return self._gateway_response(api, "INVALID_API_KEY", request_id)

        function = self.functions.get(route.function)
        if function is None:
            log.error("route %s %s has no local function", route.method, route.resource)
            return self._gateway_response(api, "DEFAULT_5XX", request_id)
        event = build_event(
            request,
            route,
            found.path_parameters,
            api=api,
            api_key=api_key,
            api_key_id=api_key_id,
            account_id=self.account_id,
            request_id=request_id,
            domain=self.domain,
        )
        try:
            result = function.invoke(event)
        except Exception:
            # In AWS the error goes to the function's log and the client gets a bare 502.
            log.exception("%s raised while handling %s %s", route.function, route.method, path)
            return self._gateway_response(api, "DEFAULT_5XX", request_id)
        try:
            return proxy_to_http(
                result,
                accept=request.header("Accept"),
                binary_media_types=api.binary_media_types,
            )
        except MalformedProxyResponse as error:
            log.error("%s returned a malformed proxy response: %s", route.function, error)
            return self._gateway_response(api, "DEFAULT_5XX", request_id)

    def refusal(self, status: int, detail: str) -> HttpResponse:
        """What the gateway answers a request it cannot even route (a URL or headers too
        long, a broken request line or body length): the API's DEFAULT_4XX problem, with
        `status` and `detail`."""
        kind = "REQUEST_TOO_LARGE" if status == 413 else "DEFAULT_4XX"
        response = self._gateway_response(self._customised_api(), kind, str(uuid.uuid4()))
        try:
            problem = json.loads(response.body)
        except ValueError:
            problem = {}
        if not isinstance(problem, dict) or "status" not in problem:
            problem = {"message": detail}
        else:
            problem.update(status=status, detail=detail)
        body = json.dumps(problem).encode()
        return HttpResponse(status, list(response.headers), body)

    def _customised_api(self) -> ApiConfig | None:
        """The one API with GatewayResponses, for a path outside every stage.

        Locally every path is this API's: its answers keep the problem+json shape. (On
        AWS's own execute-api host a path outside the stage gets API Gateway's fixed
        answer; docs/local-run.md lists the difference.)"""
        customised = [api for api in self.apis.values() if api.gateway_responses]
        return customised[0] if len(customised) == 1 else None

    def _function_url(self, route: UrlRoute, request: HttpRequest) -> HttpResponse:
        """What CloudFront in front of a function URL answers (no key, no stage)."""
        function = self.functions.get(route.function)
        failed = HttpResponse(502, [("Content-Type", "text/plain")], b"502 Bad Gateway")
        if function is None:
            return failed
        event = url_event(
            request.method,
            request.target,
            request.headers,
            request.body,
            source_ip=request.source_ip,
            account_id=self.account_id,
        )
        try:
            status, headers, body = url_response(function.invoke(event))
        except Exception:
            log.exception("%s failed on %s %s", route.function, request.method, request.target)
            return failed
        return HttpResponse(status=status, headers=headers, body=body)

    def _preflight(
        self, api: ApiConfig, found: Match, request: HttpRequest, request_id: str
    ) -> HttpResponse:
        """SAM's CORS preflight: a mock OPTIONS method on every path of the API."""
        key_required = api.cors_preflight_needs_key and bool(api.api_key_required)
        if key_required and self.api_keys.get(request.header("x-api-key") or "") is None:
            return self._gateway_response(api, "INVALID_API_KEY", request_id)
        cors = api.cors or {}
        methods = cors.get("AllowMethods") or ",".join(
            sorted({r.method for r in found.routes} | {"OPTIONS"})
        )
        headers = [
            ("Access-Control-Allow-Origin", cors.get("AllowOrigin", "*")),
            ("Access-Control-Allow-Methods", methods),
        ]
        for name, header in (
            ("AllowHeaders", "Access-Control-Allow-Headers"),
            ("MaxAge", "Access-Control-Max-Age"),
            ("AllowCredentials", "Access-Control-Allow-Credentials"),
        ):
            if cors.get(name):
                value = cors[name]
                headers.append((header, value.lower() if name == "AllowCredentials" else value))
        headers.append(("Content-Type", "application/json"))
        return HttpResponse(status=200, headers=headers, body=b"")

    def _gateway_response(self, api: ApiConfig | None, kind: str, request_id: str) -> HttpResponse:
        """API Gateway's own answer of type `kind`, customised by GatewayResponses."""
        status, default_body, error_type = _DEFAULT_RESPONSES[kind]
        message = default_body["message"]
        body = json.dumps(default_body).encode()
        headers: dict[str, str] = {"Content-Type": "application/json"}
        family = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        custom = dict(api.gateway_responses) if api else {}
        # The specific type's settings replace those of the family default.
        for entry_kind in (family, kind):
            entry = custom.get(entry_kind)
            if not isinstance(entry, dict):
                continue
            if entry.get("StatusCode"):
                status = int(entry["StatusCode"])
            params = (entry.get("ResponseParameters") or {}).get("Headers") or {}
            for name, value in params.items():
                text = str(value)
                if text.startswith("'"):
                    headers[name] = _unquote(text)  # only literals have a local value
            templates = entry.get("ResponseTemplates") or {}
            template = templates.get("application/json") or next(iter(templates.values()), None)
            if template:
                body = (
                    str(template)
                    .replace("$context.error.messageString", json.dumps(message))
                    .replace("$context.error.message", message)
                    .replace("$context.requestId", request_id)
                    .encode()
                )
        header_list = [*headers.items(), ("x-amzn-ErrorType", error_type)]
        return HttpResponse(status=status, headers=header_list, body=body)


# -- HTTP server ----------------------------------------------------------------------


class BadRequestBody(ValueError):
    """A body the HTTP server cannot read (bad Content-Length or chunk sizes): a 400."""


def _read_chunked(reader: Any, limit: int = MAX_BODY_BYTES) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = reader.readline(1024).split(b";", 1)[0].strip()
        try:
            size = int(line or b"0", 16)
        except ValueError:
            raise BadRequestBody("a chunk size is not a hexadecimal number") from None
        if size < 0:
            raise BadRequestBody("a chunk size is negative")
        if size == 0:
            while reader.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        total += size
        if total > limit:
            raise BadRequestBody(f"the chunked body is over {limit} bytes")
        chunks.append(reader.read(size))
        reader.readline(1024)


def content_length(value: str | None) -> int:
    """The body length a Content-Length header gives (0 when absent); BadRequestBody for
    anything but one whole number (a sign, a list, text)."""
    text = (value or "0").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 15:
        raise BadRequestBody("Content-Length must be a whole number of bytes")
    return int(text)


def make_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    """A request handler class that hands every request to `gateway`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "local-api-gateway"

        def _body(self) -> bytes | None:
            """The request body, or None once a refusal has been sent."""
            try:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    return _read_chunked(self.rfile)
                length = content_length(self.headers.get("Content-Length"))
            except BadRequestBody as error:
                self.send_error(400, str(error))
                return None
            if length > MAX_BODY_BYTES:
                # Refused unread, as API Gateway refuses a body over its limit.
                self._send(gateway.refusal(413, f"the request body is over {MAX_BODY_BYTES} bytes"))
                self.close_connection = True
                return None
            return self.rfile.read(length)

        def _send(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if self.request_version == "HTTP/0.9":
                # A bare request line ("GET /") is HTTP/0.9 to http.server, answered with
                # a body and no status line: API Gateway answers no such thing.
                self.send_error(400, "the request line has no HTTP version (HTTP/1.1)")
                return False
            return True

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            """Every refusal the HTTP server makes itself (a bad request line, a URL or
            headers too long, a bad body length) as the gateway's problem+json."""
            if self.request_version in ("HTTP/0.9", ""):
                self.request_version = self.protocol_version  # a status line, always
            self.close_connection = True
            detail = message or HTTPStatus(code).phrase
            log.info("refused %s: %d %s", self.requestline[:80], code, detail)
            self._send(gateway.refusal(code, detail))

        def _serve(self) -> None:
            body = self._body()
            if body is None:
                return
            started = time.monotonic()
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            response = gateway.handle(request)
            self._send(response)
            log.info(
                "%s %s -> %d (%.0f ms)",
                self.command,
                self.path,
                response.status,
                (time.monotonic() - started) * 1000,
            )

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, ...) reaches the gateway too, so a path's
            # `any` method answers it with a 405, instead of http.server's HTML 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request is logged by _serve instead

    return Handler


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is no fault of the gateway: one line, no
        # traceback (socketserver's default prints one to stderr).
        error = sys.exc_info()[1]
        log.warning("connection from %s ended: %s", client_address[0], error)


def serve(gateway: Gateway, host: str, port: int) -> GatewayServer:
    """Bind the gateway's HTTP server (not yet serving: call serve_forever)."""
    return GatewayServer((host, port), make_handler(gateway))
