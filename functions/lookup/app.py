"""Lookup function: product lookups by GTIN, plus health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service.api import make_resolver
from barcode_service.observability import logger, metrics, tracer

app = make_resolver()


@app.get("/health")
def health() -> dict[str, Any]:
    """Liveness only: touches no dependency."""
    return {"status": "ok"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
