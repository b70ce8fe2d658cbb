"""Generate function: barcode images (GET/POST /barcodes) and the type list (/barcodes/types).

Thin: reads parameters from the query string or the body (JSON, form-urlencoded,
multipart), hands them to `barcode_service.generate`, returns its result.
"""

from __future__ import annotations

import base64
import binascii
import json
from email.parser import BytesParser
from email.policy import HTTP
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service.api import make_resolver
from barcode_service.errors import InvalidParameter, PayloadTooLarge
from barcode_service.generate import GenerateService, build_generate_service, parse_request
from barcode_service.observability import logger, metrics, tracer
from barcode_service.settings import get_settings
from barcode_service.symbologies import types_document

MAX_BODY_BYTES = 16 * 1024  # parameters only; content is capped far below this

app = make_resolver()


@lru_cache(maxsize=1)
def service() -> GenerateService:
    """Built on first use (not at import: cold start) and reused while the container lives."""
    return build_generate_service(get_settings())


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameter("request body is not valid base64") from None
    else:
        raw = body.encode("utf-8")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is over {MAX_BODY_BYTES} bytes")
    return raw


def _multipart(content_type: str, raw: bytes) -> dict[str, str]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        raise InvalidParameter("multipart body without a valid boundary")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and part.get_filename() is None:
            payload = part.get_payload(decode=True)
            charset = part.get_content_charset() or "utf-8"
            fields[name] = payload.decode(charset) if isinstance(payload, bytes) else ""
    return fields


def _body_params() -> dict[str, Any]:
    """POST parameters from a JSON, form-urlencoded or multipart body."""
    content_type = app.current_event.headers.get("content-type", "") or ""
    media_type = content_type.split(";")[0].strip().lower()
    raw = _raw_body()
    try:
        if media_type in ("application/json", ""):
            body = json.loads(raw.decode("utf-8") or "null")
            if not isinstance(body, dict):
                raise InvalidParameter("request body must be a JSON object")
            return body
        if media_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise InvalidParameter(f"request body is not valid {media_type or 'JSON'}") from None
    if media_type == "multipart/form-data":
        return _multipart(content_type, raw)
    raise InvalidParameter(
        f"unsupported Content-Type {media_type!r}: send application/json, "
        "application/x-www-form-urlencoded or multipart/form-data"
    )


def _generate(params: dict[str, Any]) -> dict[str, Any]:
    request = parse_request(params)
    return service().generate(request).to_dict()


@app.get("/barcodes/types")
def list_types() -> Response[str]:
    """Every supported symbology, its content rule and its backends."""
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(types_document(), ensure_ascii=False),
        headers={"Cache-Control": "public, max-age=3600"},
    )


@app.get("/barcodes")
def generate_from_query() -> dict[str, Any]:
    return _generate(dict(app.current_event.query_string_parameters or {}))


@app.post("/barcodes")
def generate_from_body() -> dict[str, Any]:
    return _generate(_body_params())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
