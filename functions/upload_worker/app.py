"""Upload worker: SQS batches of S3 upload notifications and chunk messages.

Each record succeeds or fails on its own (partial batch response), so one poison
message is retried and finally dead-lettered without holding back the others.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service import snapshot
from barcode_service.observability import logger, metrics, tracer
from barcode_service.settings import get_settings
from barcode_service.warmup import prepare_upload_worker
from barcode_service.wiring import build_upload_worker

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from barcode_service.uploads.worker import UploadWorker


@lru_cache(maxsize=1)
def worker() -> UploadWorker:
    """Built on first use and reused while the execution environment lives."""
    return build_upload_worker(get_settings())


@lru_cache(maxsize=1)
def processor() -> BatchProcessor:
    """Powertools' Batch utility, imported on the first message, not at import: it loads
    every event data class (~34 ms of CPU measured beside boto3 and Powertools' core,
    bench/RESULTS.md), which the handler import need not pay for."""
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415
        BatchProcessor,
        EventType,
    )

    return BatchProcessor(event_type=EventType.SQS)


@snapshot.before_snapshot
def _before_snapshot() -> None:
    """SnapStart: what the first message would build, built before the snapshot."""
    worker()
    processor()
    prepare_upload_worker(get_settings())


# Its answer names the upload: traces never hold upload ids.
@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> dict[str, Any]:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    return worker().handle(record.body, receive_count=receive_count).to_dict()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import process_partial_response  # noqa: PLC0415

    worker().start_invocation(context)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor(), context=context
    )
    return dict(response)
