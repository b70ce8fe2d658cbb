"""Uploads API function: `POST /uploads` (presigned S3 POST + pending job: codes to look up,
or labels to print), `GET /uploads/{id}`."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service import snapshot
from barcode_service.api import json_body, make_resolver, query_params
from barcode_service.callers import caller_of
from barcode_service.errors import InvalidParameter
from barcode_service.observability import logger, metrics, tracer
from barcode_service.public_url import request_base_url
from barcode_service.settings import get_settings
from barcode_service.uploads.policy import upload_ref
from barcode_service.uploads.service import UploadService
from barcode_service.wiring import build_upload_service

app = make_resolver()


@lru_cache(maxsize=1)
def service() -> UploadService:
    """Built on first use and reused while the execution environment lives."""
    return build_upload_service(get_settings())


# SnapStart: the first request's service, built before the snapshot (it needs no more).
snapshot.before_snapshot(service)


def _api_base_url() -> str:
    """Where this API is reachable, for the status URL (PUBLIC_BASE_URL wins).

    Otherwise the base URL that served this request: scheme, host and port included, so
    the link works wherever the API runs (the stage URL in AWS, `make run` locally).
    """
    configured = get_settings().public_base_url
    if configured:
        return configured
    return request_base_url(app.current_event.raw_event, "/uploads")


def _owner() -> str:
    """Who is asking (API key or signed-in user), as the hash jobs are owned by."""
    return caller_of(app.current_event.raw_event).key


# Answers hold upload ids and presigned fields: traces never capture them (ids are what
# read a job), and logs name an upload by its ref (policy.upload_ref).
@app.post("/uploads")
@tracer.capture_method(capture_response=False)
def create_upload() -> Response[str]:
    query_params(app)
    body = json_body(app, ("filename", "content_type", "purpose", "labels"))
    for name in ("purpose", "labels"):
        if name in body and body[name] is None:  # JSON null is no value: leave it out
            raise InvalidParameter(f"{name} must not be null", field=name)
    created = service().create(
        body.get("filename"),
        body.get("content_type"),
        _api_base_url(),
        _owner(),
        body.get("purpose", "lookup"),  # an explicit null is refused above
        labels=body.get("labels"),
    )
    logger.info("upload created", extra={"upload_ref": upload_ref(created["upload_id"])})
    return Response(
        status_code=201,
        content_type="application/json",
        body=json.dumps(created, ensure_ascii=False),
        headers={"Location": created["status_url"]},
    )


@app.get("/uploads/<upload_id>")
@tracer.capture_method(capture_response=False)
def get_upload(upload_id: str) -> dict[str, Any]:
    query_params(app)
    return service().status(upload_id, _owner())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
