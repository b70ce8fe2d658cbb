"""Image function: the keyless `/img/<type>.<png|svg>?...` URL behind CloudFront.

Invoked through its function URL, which only CloudFront can call (origin access
control signs the request; the URL's AuthType is AWS_IAM). Renders locally and reads
the image back before answering; it has no permission to reach the upstream's
credentials, so nothing here can spend upstream credit. Thin: the URL is parsed by
`barcode_service.image_path`, the render is `barcode_service.verify`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service import snapshot
from barcode_service.errors import MethodNotAllowed, ServiceError
from barcode_service.image_path import ERROR_MAX_AGE, request_from_path
from barcode_service.observability import logger, metrics, tracer
from barcode_service.storage import CACHE_CONTROL, CONTENT_TYPES
from barcode_service.verify import render_verified
from barcode_service.warmup import prepare_image

ALLOWED_METHODS = ("GET", "HEAD")

# SnapStart: zint, Pillow and zxing-cpp loaded before the snapshot.
snapshot.before_snapshot(prepare_image)


def _answer(
    status: int, headers: dict[str, str], body: str, *, binary: bool = False
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Access-Control-Allow-Origin": "*", **headers},
        "body": body,
        "isBase64Encoded": binary,
    }


def _problem(error: ServiceError) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/problem+json",
        # Cached at the edge too: a bad URL asked again costs no render.
        "Cache-Control": f"public, max-age={ERROR_MAX_AGE}",
    }
    if error.status >= 500:
        headers["Cache-Control"] = "no-store"
    return _answer(error.status, headers, json.dumps(error.to_problem(), ensure_ascii=False))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
@tracer.capture_lambda_handler(capture_response=False)  # the answer is the image itself
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = (event.get("requestContext") or {}).get("http", {}).get("method", "GET")
    if method not in ALLOWED_METHODS:
        answer = _problem(MethodNotAllowed(str(method), ALLOWED_METHODS))
        answer["headers"]["Allow"] = ", ".join(ALLOWED_METHODS)
        return answer
    try:
        request = request_from_path(
            str(event.get("rawPath") or ""), dict(event.get("queryStringParameters") or {})
        )
        made = render_verified(request)
    except ServiceError as error:
        return _problem(error)
    headers = {
        "Content-Type": CONTENT_TYPES[request.format],
        "Cache-Control": CACHE_CONTROL,
        "ETag": request.etag,
        "X-Barcode-Verified": json.dumps(made.facts.verified),
        "X-Barcode-Module-Px": f"{made.facts.module_px:g}",
    }
    if request.format == "svg":
        return _answer(200, headers, made.body.decode("utf-8"))
    return _answer(200, headers, base64.b64encode(made.body).decode("ascii"), binary=True)
