"""The upload worker: one SQS message (S3 notification or chunk) -> lookups -> results.

S3 and SQS both deliver at least once, so every message is processed under Powertools
Idempotency (records `IDEMPOTENCY#...` in the cache table) keyed on what it stands
for: an object version (bucket, key, version-or-ETag, sequencer) or a chunk position.
The job record's conditional writes (see jobs.py) are the second guard.

Photos are decoded and looked up here, except a `product_image` upload's, which is
checked and stored for a community contribution (product_image.py); lists go to
`chunks`. The community share queue's messages (kind "share") are retried here too
(community/share.py). Input problems (wrong
type, empty, too large, corrupt, undecodable) end the job as `failed` at once;
anything else fails the message so SQS retries it, and the last allowed attempt
marks the job `failed` before the message goes to the dead-letter queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.serialization.dataclass import (
    DataclassSerializer,
)
from botocore.exceptions import ClientError

from ..errors import (
    EmptyUpload,
    InvalidGtin,
    PayloadTooLarge,
    ServiceError,
    UnreadableUpload,
    UnsupportedType,
)
from ..lookup import LookupService
from ..lookup_outcome import LookupOutcome
from ..observability import count, logger
from ..rows import CodeRow
from ..settings import Settings
from .bucket import UploadBucket
from .chunks import ChunkProcessor
from .jobs import JobStore
from .messages import ChunkMessage, ObjectVersion, WorkReport, jobs_named_in
from .pacing import Pacer
from .policy import Kind, kind_of, max_bytes, parse_upload_key, results_key, upload_ref
from .results import ResultWriter

if TYPE_CHECKING:
    # Imported where used: Pillow and zxing-cpp only for images (chunk messages, the
    # bulk of a big list's work, need neither).
    from ..community.share import Sharing
    from ..decode import DecodedCode
    from ..router import Budget, Pace
    from ..storage import ImageStore

NO_BARCODE = (
    "no barcode was found in the image; try a sharper photo taken closer, "
    "with the whole barcode in view and in good light"
)
_INPUT_PROBLEMS = (UnsupportedType, PayloadTooLarge, EmptyUpload, UnreadableUpload)


class UploadWorker:
    """Processes upload messages; one instance per warm Lambda environment."""

    def __init__(
        self,
        settings: Settings,
        *,
        s3: Any,
        sqs: Any,
        jobs: JobStore,
        lookups: LookupService,
        persistence: BasePersistenceLayer,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        pacer: Pace | None = None,
        images: Callable[[], ImageStore] | None = None,
        sharing: Callable[[], Sharing] | None = None,
    ) -> None:
        self.settings = settings
        self.s3 = s3
        self.sqs = sqs
        self.jobs = jobs
        self.lookups = lookups
        self.images = images  # the images bucket: product photos (built on first use)
        self.sharing = sharing  # the community share retries (built on first use)
        self._clock = clock
        # build_upload_worker shares the uploads' rate across the fleet (FleetShare);
        # without one, this worker keeps to its own WORKER_LOOKUPS_PER_SECOND.
        self.pacer = pacer or Pacer(settings.worker_lookups_per_second, clock, sleep)
        self.bucket = UploadBucket(s3, settings.uploads_bucket)
        self.results = ResultWriter(settings, self.bucket, jobs)
        self.chunks = ChunkProcessor(
            settings,
            sqs=sqs,
            jobs=jobs,
            lookups=lookups,
            bucket=self.bucket,
            results=self.results,
            pacer=self.pacer,
            clock=clock,
            wall_clock=wall_clock,
        )
        self.idempotency = IdempotencyConfig(expires_after_seconds=settings.upload_job_ttl_seconds)

        def once(what: str) -> Any:
            return idempotent_function(
                data_keyword_argument="identity",
                persistence_store=persistence,
                config=self.idempotency,
                key_prefix=f"IDEMPOTENCY#upload-{what}",
                output_serializer=DataclassSerializer(WorkReport),
            )

        self._object_once = once("object")(self._process_object)
        self._chunk_once = once("chunk")(self.chunks.process)

    # ------------------------------------------------------------------ entry points

    def start_invocation(self, context: Any) -> None:
        """Per invocation: the deadline chunks work towards, and idempotency's timeout."""
        self.idempotency.register_lambda_context(context)
        remaining = context.get_remaining_time_in_millis() / 1000.0
        self.chunks.deadline = self._clock() + remaining - self.settings.worker_time_margin_seconds

    def handle(self, body: str, receive_count: int = 1) -> WorkReport:
        """Process one message body; raises to have SQS deliver it again."""
        # A warm environment keeps logger keys: drop the previous message's job id.
        logger.remove_keys(["upload_ref"])
        try:
            return self._dispatch(body, receive_count)
        except IdempotencyAlreadyInProgressError:
            # Another invocation is on it: retry later, and never blame the job for it.
            raise
        except Exception as error:
            if receive_count >= self.settings.upload_max_receive_count:
                self.give_up(body, error, receive_count)
            raise

    def give_up(self, body: str, error: Exception, attempts: int) -> None:
        """Last attempt failed: mark the job(s) `failed` with the reason before the DLQ."""
        reason = error.detail if isinstance(error, ServiceError) else type(error).__name__
        detail = f"processing failed {attempts} times; last error: {reason}"
        count("UploadGaveUp")
        for upload_id, run in jobs_named_in(body):
            logger.error(
                "upload gave up", extra={"upload_ref": upload_ref(upload_id), "reason": reason}
            )
            self.jobs.fail(upload_id, "processing_failed", detail, run)

    def _dispatch(self, body: str, receive_count: int = 1) -> WorkReport:
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("the message is not a JSON object")
        if message.get("Event") == "s3:TestEvent":
            # S3 sends this once when the notification is configured.
            logger.info("ignoring the S3 test event")
            return WorkReport(ignored="s3:TestEvent")
        if message.get("kind") == "share":
            return self._share(message, receive_count)
        if message.get("kind") == "chunk":
            chunk = ChunkMessage.parse(message)
            done: WorkReport = self._chunk_once(identity=chunk.identity())
            return done
        records = message.get("Records")
        if not isinstance(records, list):
            raise ValueError("the message is neither an S3 notification nor a chunk")
        reports: list[WorkReport] = []
        for record in records:
            if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
                continue
            version = ObjectVersion.from_record(record)
            reports.append(self._object_once(identity=version.identity()))
        return WorkReport(objects=tuple(reports))

    # ------------------------------------------------------------------ objects

    def _process_object(self, identity: dict[str, Any]) -> WorkReport:
        """One uploaded object version (`identity` is ObjectVersion.identity())."""
        version = ObjectVersion(**identity)
        key = version.key
        parsed = parse_upload_key(key)
        if parsed is None:
            # Not a key the API hands out, so there is no job to report to.
            logger.warning("ignoring an object outside the upload key scheme", extra={"key": key})
            count("UploadIgnored")
            return WorkReport(ignored=key)
        upload_id, ext = parsed
        run = version.run
        kind = kind_of(ext)
        job = self.jobs.begin(upload_id, run, kind)
        if job is None:
            logger.info("object already processed", extra={"upload_ref": upload_ref(upload_id)})
            return WorkReport(upload_id, skipped="already processed")
        logger.append_keys(upload_ref=upload_ref(upload_id))
        try:
            if kind is None:
                raise UnsupportedType(f"files ending in .{ext} are not processed")
            data = self._fetch(version, kind)
            if job.labels is not None:
                return self._process_labels(upload_id, run, data, job.labels)
            if job.purpose == "product_image":
                return self._store_product_image(upload_id, run, data)
            if kind == "image":
                return self._process_image(upload_id, run, data, job.owner)
            from ..codelist import parse_code_list  # noqa: PLC0415 - lists only

            # Before any lookup: a list's cost is bounded by its rows (UPLOAD_MAX_ROWS).
            rows = parse_code_list(data, max_rows=self.settings.upload_max_rows)
            return self.chunks.split(upload_id, run, rows)
        except _INPUT_PROBLEMS as problem:
            count("UploadFailed")
            logger.info("upload rejected", extra={"code": problem.code, "detail": problem.detail})
            self.jobs.fail(upload_id, problem.code, problem.detail, run)
            return WorkReport(upload_id, failed=problem.code)

    def _store_product_image(self, upload_id: str, run: str, data: bytes) -> WorkReport:
        from .product_image import store_product_image  # noqa: PLC0415 - product photos only

        if self.images is None:
            raise ServiceError("no images bucket is wired for product photos")
        stored = store_product_image(data, self.images())
        row = stored.to_row()
        json_key = results_key(upload_id, "json")
        document = {"upload_id": upload_id, "status": "done", "purpose": "product_image"}
        self.bucket.put_json(json_key, {**document, "results": [row]})
        self.jobs.finish(
            upload_id,
            run,
            counts={"total": 1},
            inline=[row],
            json_key=json_key,
            csv_key=None,
            message=None,
        )
        count("ProductImageStored")
        return WorkReport(upload_id, rows=1)

    def _share(self, message: dict[str, Any], receive_count: int) -> WorkReport:
        """One queued share of a community contribution; raises to be delivered again."""
        from ..community.share import ShareMessage  # noqa: PLC0415 - share messages only

        if self.sharing is None:
            raise ServiceError("community sharing is not wired into this worker")
        state = self.sharing().retry(ShareMessage.parse(message), receive_count)
        if state is None:
            return WorkReport(ignored="share already settled")
        return WorkReport(shared=state.status)

    def _fetch(self, version: ObjectVersion, kind: Kind) -> bytes:
        limit = max_bytes(self.settings, kind)
        too_large = PayloadTooLarge(f"the file is larger than the {limit:,} bytes allowed")
        if version.size > limit:
            raise too_large
        try:
            answer = self.s3.get_object(Bucket=version.bucket, Key=version.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise UnreadableUpload("the uploaded file was deleted before it was read") from None
            raise
        data: bytes = answer["Body"].read(limit + 1)
        if len(data) > limit:
            raise too_large
        if not data:
            raise EmptyUpload("the uploaded file is empty")
        return data

    def _process_labels(
        self, upload_id: str, run: str, data: bytes, sheet: dict[str, Any]
    ) -> WorkReport:
        """A label-sheet job: the CSV drawn on its sheet; the PDF is the job's result."""
        from .labels import finish_labels  # noqa: PLC0415 - reportlab: label jobs only

        return finish_labels(self.bucket, self.jobs, upload_id, run=run, data=data, sheet=sheet)

    def _process_image(
        self, upload_id: str, run: str, data: bytes, owner: str | None
    ) -> WorkReport:
        from ..decode import decode_image  # noqa: PLC0415 - Pillow + zxing-cpp: images only

        found = decode_image(data)
        budget = self.lookups.budget_for(owner)  # the upload's creator pays its lookups
        rows = [self._decoded_row(n, code, budget, owner) for n, code in enumerate(found, start=1)]
        self.results.finish(
            upload_id, run, rows, kind="image", message=None if rows else NO_BARCODE
        )
        return WorkReport(upload_id, rows=len(rows))

    def _decoded_row(
        self, number: int, code: DecodedCode, budget: Budget | None, owner: str | None
    ) -> CodeRow:
        # Photos hold a few codes: an upstream block gives them `error` rows at once
        # rather than keeping the merchant waiting for the block to end.
        if code.gtin is None:
            outcome = LookupOutcome(InvalidGtin(f"this {code.format} symbol holds no GTIN"))
        else:
            outcome = self.lookups.resolve(code.gtin, budget=budget, pace=self.pacer, caller=owner)
        return CodeRow.of(
            outcome,
            code=code.gtin or code.text,
            row=number,
            format=code.format,
            text=code.text if code.gtin != code.text else None,
            position=code.position.to_dict() if code.position is not None else None,
        )
