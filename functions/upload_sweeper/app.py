"""Upload sweeper: on a schedule, resumes or finishes upload jobs that stopped moving.

Invoked by an EventBridge schedule (template `UploadSweeperFunction`); the local stack
invokes it the same way, and once at start with `{"stalled_after_seconds": 0}` for the
jobs a stopped stack left `processing`. Thin: the work is `barcode_service.uploads.sweeper`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service.observability import logger, metrics, tracer
from barcode_service.settings import get_settings
from barcode_service.uploads.sweeper import Sweeper
from barcode_service.wiring import build_sweeper


@lru_cache(maxsize=1)
def sweeper() -> Sweeper:
    """Built on first use and reused while the execution environment lives."""
    return build_sweeper(get_settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    stalled_after = event.get("stalled_after_seconds") if isinstance(event, dict) else None
    seconds = float(stalled_after) if isinstance(stalled_after, int | float) else None
    return sweeper().sweep(stalled_after=seconds).to_dict()
