"""The REST resolver every HTTP function uses: errors become problem+json in one place."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from .errors import InvalidParameter, NotFound, ServiceError
from .observability import logger

PROBLEM_JSON = "application/problem+json"

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Content-Type", "X-Api-Key", "Authorization"],
    expose_headers=["Retry-After", "RateLimit", "RateLimit-Policy"],
    max_age=600,
)


def problem_response(error: ServiceError) -> Response[str]:
    """The HTTP response for a ServiceError (Retry-After on 429/503)."""
    headers: dict[str, str] = dict(error.headers)
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, int(error.retry_after)))
    return Response(
        status_code=error.status,
        content_type=PROBLEM_JSON,
        body=json.dumps(error.to_problem(), ensure_ascii=False),
        headers=headers,
    )


def make_resolver() -> APIGatewayRestResolver:
    """A REST API resolver with the project's error handling and CORS."""
    app = APIGatewayRestResolver(cors=CORS)

    @app.exception_handler(ServiceError)
    def _service_error(error: ServiceError) -> Response[str]:
        if error.status >= 500:
            logger.warning("answered with an upstream or service error", extra={"code": error.code})
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response[str]:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in error.errors()
        )
        return problem_response(InvalidParameter(details or "invalid request"))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return problem_response(NotFound("no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problem_response(ServiceError("the server could not complete the request"))

    return app


def json_body(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The request's JSON object body, or a 400 problem saying why it is not one."""
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
    return body


def json_response(
    body: Any, headers: Mapping[str, str] | None = None, status: int = 200
) -> Response[str]:
    """A JSON answer with extra headers (a route returning a dict cannot add any)."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        headers=dict(headers or {}),
    )


def with_headers(
    answer: Callable[[], Any], headers: Callable[[], Mapping[str, str]]
) -> Response[str]:
    """`answer()` as JSON, with `headers()` on it and on the problem it may raise."""
    try:
        body = answer()
    except ServiceError as error:
        error.headers.update(headers())
        raise
    return json_response(body, headers())
