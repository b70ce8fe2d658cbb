"""The REST resolver every HTTP function uses: errors become problem+json in one place."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from .errors import InvalidParameter, NotFound, ServiceError
from .observability import logger

PROBLEM_JSON = "application/problem+json"

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Content-Type", "X-Api-Key"],
    expose_headers=["Retry-After"],
    max_age=600,
)


def problem_response(error: ServiceError) -> Response[str]:
    """The HTTP response for a ServiceError (Retry-After on 429/503)."""
    headers: dict[str, str] = {}
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
