"""Generate function: barcode images (GET/POST /barcodes, POST /barcodes/batch), label
sheets (POST /labels) and the type list (/barcodes/types).

Thin: reads parameters from the query string or the body (JSON, form-urlencoded,
multipart), hands them to `barcode_service.generate`, and answers in the form asked
(`response=json|image|redirect`, or an image type first in Accept).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service import snapshot
from barcode_service.api import (
    JSON_MEDIA_TYPES,
    cacheable,
    dumps,
    json_body,
    make_resolver,
    matches,
    query_params,
    require_media_type,
)
from barcode_service.barcode_request import (
    PARAMETERS,
    accepted_format,
    first_type,
    parse_request,
    response_mode,
)
from barcode_service.errors import InvalidParameter, PayloadTooLarge, refuse_unknown
from barcode_service.generate import BATCH_MAX, GenerateService
from barcode_service.observability import logger, metrics, tracer
from barcode_service.request_body import body_bytes, multipart_fields, refuse_oversized
from barcode_service.settings import get_settings
from barcode_service.storage import CACHE_CONTROL
from barcode_service.symbologies import types_document
from barcode_service.warmup import prepare_generate
from barcode_service.wiring import build_generate_service, build_label_service

if TYPE_CHECKING:
    from barcode_service.label_service import LabelService

MAX_BODY_BYTES = 16 * 1024  # parameters only; content is capped far below this
MAX_BATCH_BODY_BYTES = 1024 * 1024  # 100 requests of up to ~10 KB each
MAX_LABELS_BODY_BYTES = 2 * 1024 * 1024  # 1,000 labels of up to ~2 KB each
MAX_INLINE_PDF_BYTES = 4 * 1024 * 1024
"""Larger sheets are a redirect: Lambda answers at most 6 MB, and base64 adds a third."""
LABEL_RESPONSES = ("json", "pdf", "redirect")
REDIRECT_CACHE_CONTROL = "public, max-age=86400"  # the target URL is content-addressed
REQUEST_PARAMETERS = (*PARAMETERS, "response")
# A JSON answer names a content-addressed image: an hour, then revalidate (If-None-Match).
JSON_CACHE_CONTROL = "private, max-age=3600"
TYPES_CACHE_CONTROL = "public, max-age=3600"
TEXT_FORMATS = ("svg", "eps")  # answered as text; PDF and PNG as bytes
PDF = "application/pdf"
BODY_MEDIA_TYPES = (*JSON_MEDIA_TYPES, "application/x-www-form-urlencoded", "multipart/form-data")

app = make_resolver()


@lru_cache(maxsize=1)
def service() -> GenerateService:
    """Built on first use (not at import: cold start) and reused while the container lives."""
    return build_generate_service(get_settings())


@lru_cache(maxsize=1)
def labels() -> LabelService:
    """Label sheets, stored where the images are; built on the first sheet asked for."""
    return build_label_service(service())


@snapshot.before_snapshot
def _before_snapshot() -> None:
    """SnapStart: what the first request would build, built before the snapshot (label
    sheets too: with SnapStart their imports cost nothing at a restore)."""
    service()
    labels()
    prepare_generate(get_settings())


def _raw_body() -> bytes:
    event = app.current_event
    return body_bytes(event.body, bool(event.is_base64_encoded), MAX_BODY_BYTES)


def _body_params() -> dict[str, Any]:
    """POST parameters from a JSON, form-urlencoded or multipart body (415 otherwise)."""
    content_type = app.current_event.headers.get("content-type", "") or ""
    media_type = require_media_type(app, BODY_MEDIA_TYPES)
    raw = _raw_body()
    try:
        if media_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        if media_type != "multipart/form-data":
            body = json.loads(raw.decode("utf-8") or "null")
            if not isinstance(body, dict):
                raise InvalidParameter("request body must be a JSON object")
            return body
    except (UnicodeDecodeError, ValueError):
        raise InvalidParameter(f"request body is not valid {media_type}") from None
    return multipart_fields(content_type, raw)


def _generate(params: dict[str, Any], where: str) -> Response[Any]:
    """The answer in the form asked: JSON, the image bytes, or a redirect to the image."""
    refuse_unknown(params, REQUEST_PARAMETERS, where)
    headers = app.current_event.headers
    accept = headers.get("accept")
    mode = response_mode(params, accept)
    if mode == "json":
        request = parse_request(params)
        return cacheable(app, _json(service().generate(request).to_dict()), JSON_CACHE_CONTROL)
    request = parse_request(accepted_format(params, accept))
    if mode == "image":
        if matches(headers.get("if-none-match"), request.etag):
            # The ETag is the request's digest: no render, no storage read.
            return Response(status_code=304, headers=_image_headers(request.etag), body="")
        # API Gateway turns base64 back into bytes only when the first Accept type is
        # one of the API's BinaryMediaTypes (image/*, application/pdf): anyone else gets
        # the redirect. SVG and EPS are text.
        first = first_type(accept)
        if request.format in TEXT_FORMATS or first.startswith("image/") or first == PDF:
            image = service().image(request)
            body: str | bytes = image.body
            if request.format in TEXT_FORMATS:
                body = image.body.decode("utf-8")  # text: no base64 round trip
            return Response(
                status_code=200,
                content_type=image.content_type,
                body=body,
                headers=_image_headers(image.etag),
            )
    return _redirect(service().redirect(request).url)


def _json(body: dict[str, Any]) -> Response[Any]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=dumps(body),
    )


def _redirect(url: str) -> Response[Any]:
    return Response(
        status_code=302,
        body="",
        headers={"Location": url, "Cache-Control": REDIRECT_CACHE_CONTROL, "Vary": "Accept"},
    )


def _image_headers(etag: str) -> dict[str, str]:
    return {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": "Accept"}


@app.get("/barcodes/types")
def list_types() -> Response[str]:
    """Every supported symbology, its content rule and its backends."""
    query_params(app)
    listed = Response(
        status_code=200, content_type="application/json", body=dumps(types_document())
    )
    return cacheable(app, listed, TYPES_CACHE_CONTROL)


@app.get("/barcodes")
def generate_from_query() -> Response[Any]:
    return _generate(query_params(app, REQUEST_PARAMETERS), "query string")


@app.post("/barcodes")
def generate_from_body() -> Response[Any]:
    query_params(app)  # parameters go in the body: a query string is refused, not ignored
    return _generate(_body_params(), "body")


@app.post("/barcodes/batch")
def generate_batch() -> Response[Any]:
    """Up to 100 requests -> one result each, in order (a URL or a problem)."""
    refuse_oversized(app.current_event.body, MAX_BATCH_BODY_BYTES)
    query_params(app)
    # Text is checked per request: a row that is not valid Unicode fails alone.
    requests = json_body(app, ("requests",), check_text=False).get("requests")
    if not isinstance(requests, list) or not requests:
        raise InvalidParameter(
            f'body must be {{"requests": [...]}} with 1 to {BATCH_MAX} generate requests',
            field="requests",
        )
    if len(requests) > BATCH_MAX:
        # As POST /products/lookup answers 101 codes: too much at once, not a wrong value.
        raise PayloadTooLarge(
            f"at most {BATCH_MAX} requests per batch; got {len(requests)}", field="requests"
        )
    outcomes = service().generate_batch(requests)
    return _json({"results": [outcome.to_dict(i) for i, outcome in enumerate(outcomes)]})


@app.post("/labels")
def label_sheet() -> Response[Any]:
    """A PDF of label sheets: JSON naming it, the PDF itself, or a redirect to it."""
    refuse_oversized(app.current_event.body, MAX_LABELS_BODY_BYTES)
    query_params(app)
    body = json_body(app)
    accept = app.current_event.headers.get("accept")
    wants_pdf = first_type(accept) == PDF
    mode = body.pop("response", None) if "response" in body else ("pdf" if wants_pdf else "json")
    if mode not in LABEL_RESPONSES:
        raise InvalidParameter(
            f"response must be {', '.join(LABEL_RESPONSES)}; got {mode!r}", field="response"
        )
    request = labels().parse(body)
    if mode == "json":
        return _json(labels().sheet(request).to_dict())
    if mode == "pdf" and wants_pdf:
        if matches(app.current_event.headers.get("if-none-match"), request.etag):
            return Response(status_code=304, headers=_image_headers(request.etag), body="")
        sheet, pdf = labels().pdf(request)
        if len(pdf) <= MAX_INLINE_PDF_BYTES:
            return Response(
                status_code=200, content_type=PDF, body=pdf, headers=_image_headers(request.etag)
            )
        return _redirect(sheet.url)
    # API Gateway sends bytes only to an Accept of application/pdf: others get the URL.
    return _redirect(labels().sheet(request).url)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # an answer may be the image itself
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
