"""The REST resolver every HTTP function uses: errors become problem+json in one place.

Also the request rules every route shares: JSON bodies (415 for another media type),
no unknown parameters, 405 with `Allow` for a known path asked with another method,
problems in the language of `Accept-Language`, and JSON in raw UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from .deadline import Deadline, applying
from .errors import (
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    ServiceError,
    UnsupportedMediaType,
    refuse_unknown,
)
from .i18n import REQUEST_LANGUAGE, negotiate
from .observability import logger
from .text_input import is_valid, printable, require_valid_text

PROBLEM_JSON = "application/problem+json"
JSON_MEDIA_TYPES = ("application/json",)

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=[
        "Content-Type",
        "X-Api-Key",
        "Authorization",
        "If-None-Match",
        "Accept-Language",
    ],
    expose_headers=[
        "Retry-After",
        "RateLimit",
        "RateLimit-Policy",
        "ETag",
        "Location",
        "Content-Language",
        "Allow",
    ],
    max_age=600,
)


def dumps(body: Any) -> str:
    """JSON as every route answers it: raw UTF-8 (no \\uXXXX escapes).

    Input text is checked where it enters (text_input); should a lone surrogate still
    get here (a provider's answer, say), it becomes U+FFFD rather than an answer that
    cannot be written as UTF-8 (a 502 for the whole response).
    """
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if not is_valid(text):
        logger.warning("an answer held text that is not valid Unicode; replaced")
        text = printable(text)
    return text


def problem_response(error: ServiceError, accept_language: str | None = None) -> Response[str]:
    """The HTTP response for a ServiceError (Retry-After on 429/503, Allow on 405), its
    title and detail in the language `Accept-Language` prefers."""
    language = negotiate(accept_language)
    headers: dict[str, str] = dict(error.headers)
    headers.update({"Content-Language": language, "Vary": "Accept-Language"})
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, int(error.retry_after)))
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allow)
    return Response(
        status_code=error.status,
        content_type=PROBLEM_JSON,
        body=dumps(error.to_problem(language)),
        headers=headers,
    )


def _allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods this function has for `path` (Powertools keeps its routes in these
    two lists; there is no public accessor)."""
    routes = [*app._static_routes, *app._dynamic_routes]
    methods = {route.method for route in routes if route.rule.match(path)}
    return sorted(methods | {"OPTIONS"}) if methods else []


def make_resolver() -> APIGatewayRestResolver:
    """A REST API resolver with the project's error handling and CORS."""
    app = APIGatewayRestResolver(cors=CORS, serializer=dumps)

    def language() -> str | None:
        try:
            return app.current_event.headers.get("accept-language")
        except (AttributeError, KeyError):
            return None

    def speak_the_request_language(
        resolver: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        # Problems built inside an answer (batch rows, scan entries) follow it too.
        token = REQUEST_LANGUAGE.set(negotiate(language()))
        try:
            return next_middleware(resolver)
        finally:
            REQUEST_LANGUAGE.reset(token)

    def valid_text_in_the_url(
        resolver: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        # Path and query text reaches answers (a code, a format): refused, never echoed.
        event = resolver.current_event
        require_valid_text(
            {**(event.path_parameters or {}), **(event.query_string_parameters or {})}
        )
        return next_middleware(resolver)

    def within_the_deadline(
        resolver: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        # One deadline below the function's timeout for all the request's work.
        until = Deadline.for_invocation(getattr(resolver, "lambda_context", None))
        with applying(until):
            return next_middleware(resolver)

    app.use(middlewares=[speak_the_request_language, within_the_deadline, valid_text_in_the_url])

    @app.exception_handler(ServiceError)
    def _service_error(error: ServiceError) -> Response[str]:
        if error.status >= 500:
            logger.warning("answered with an upstream or service error", extra={"code": error.code})
        return problem_response(error, language())

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response[str]:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in error.errors()
        )
        return problem_response(InvalidParameter(details or "invalid request"), language())

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        event = app.current_event
        allowed = _allowed_methods(app, event.path)
        if allowed:
            return problem_response(MethodNotAllowed(event.http_method, allowed), language())
        return problem_response(NotFound("no such route"), language())

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problem_response(
            ServiceError("the server could not complete the request"), language()
        )

    return app


def media_type(app: APIGatewayRestResolver) -> str:
    """The request's media type, lower case without parameters ("" when none is sent)."""
    content_type = app.current_event.headers.get("content-type") or ""
    return content_type.split(";", 1)[0].strip().lower()


def require_media_type(app: APIGatewayRestResolver, accepted: Iterable[str]) -> str:
    """The request's media type, or a 415 naming the accepted ones. A body sent without
    a Content-Type is read as the first accepted type."""
    accepted = tuple(accepted)
    found = media_type(app)
    if not found:
        return accepted[0]
    if found in accepted or (found.endswith("+json") and "application/json" in accepted):
        return found
    raise UnsupportedMediaType(
        f"unsupported Content-Type {found[:100]!r}: send {' or '.join(accepted)}"
    )


def query_params(app: APIGatewayRestResolver, allowed: Iterable[str] = ()) -> dict[str, str]:
    """The query string (one value per name), refusing a name outside `allowed`."""
    params = dict(app.current_event.query_string_parameters or {})
    refuse_unknown(params, allowed)
    return params


def json_body(
    app: APIGatewayRestResolver,
    allowed: Iterable[str] | None = None,
    *,
    check_text: bool = True,
) -> dict[str, Any]:
    """The request's JSON object body, or a 400 (415 for another media type) saying why
    it is not one. With `allowed`, a member outside it is refused too; text that is not
    valid Unicode is refused naming its member, unless the caller checks it
    (`check_text=False`: a batch whose rows fail alone)."""
    require_media_type(app, JSON_MEDIA_TYPES)
    try:
        raw = app.current_event.decoded_body or ""
    except ValueError:  # base64 that is not valid, or bytes that are not UTF-8
        raise InvalidParameter("request body must be UTF-8 JSON") from None
    if not raw.strip():
        raise InvalidParameter("request body must be a JSON object")
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidParameter("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidParameter("request body must be a JSON object")
    if allowed is not None:
        refuse_unknown(body, allowed, "body")
    if check_text:
        require_valid_text(body)
    return body


def json_response(
    body: Any, headers: Mapping[str, str] | None = None, status: int = 200
) -> Response[str]:
    """A JSON answer with extra headers (a route returning a dict cannot add any)."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=dumps(body),
        headers=dict(headers or {}),
    )


def with_headers(
    answer: Callable[[], Any], headers: Callable[[], Mapping[str, str]]
) -> Response[str]:
    """`answer()` as JSON, with `headers()` on it and on the problem it may raise."""
    try:
        body = answer()
    except ServiceError as error:
        raise error.copy(headers=dict(headers())) from None
    return json_response(body, headers())


# --- HTTP caching ------------------------------------------------------------------------

# Headers a 304 leaves out: it has no body (RFC 9110 15.4.5 keeps the rest).
_BODY_HEADERS = ("content-type", "content-length", "content-encoding")


def entity_tag(body: str | bytes) -> str:
    """A strong ETag: the SHA-256 of the exact body bytes."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return '"' + hashlib.sha256(raw).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header (`*`, one tag or a list) matches `etag`; weak
    comparison, as RFC 9110 13.1.2 asks for If-None-Match."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    if "*" in tags:
        return True
    bare = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == bare for tag in tags if tag)


def cacheable(
    app: APIGatewayRestResolver, response: Response[Any], cache_control: str
) -> Response[Any]:
    """`response` with `Cache-Control` and a strong `ETag` of its body, or a 304 with the
    same headers and no body when the request's If-None-Match names that ETag."""
    if response.status_code != 200 or not isinstance(response.body, str | bytes):
        return response
    etag = entity_tag(response.body)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    if not matches(app.current_event.headers.get("if-none-match"), etag):
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _BODY_HEADERS}
    return Response(status_code=304, body="", headers=headers)
