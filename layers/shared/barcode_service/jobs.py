"""The upload worker: one SQS message (S3 notification or chunk) -> lookups -> results.

S3 and SQS both deliver at least once, so every message is processed under Powertools
Idempotency (records `IDEMPOTENCY#...` in the cache table) keyed on what it stands
for: an object version (bucket, key, version-or-ETag, sequencer) or a chunk position.
The job record's conditional writes (see uploads.py) are the second guard.

Lists bigger than one chunk are split: rows go to S3, one SQS message per chunk, each
processed by any worker; a number set on the job records finished chunks, and the
worker that sees the set complete assembles the results in input order. A chunk that
cannot finish before the Lambda deadline saves its progress and sends itself on.
A chunk that meets an upstream block (daily quota used up, account problem) does the
same with a delayed message and marks the job `waiting`, so nothing is lost to the
block; it gives up waiting (error rows, as for photos) after UPLOAD_MAX_WAIT_SECONDS.
Input problems (wrong type, empty, too large, corrupt, undecodable) end the job as
`failed` at once; anything else fails the message so SQS retries it, and the last
allowed attempt marks the job `failed` before the message goes to the dead-letter queue.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from botocore.exceptions import ClientError

from .cache import PRODUCT_FIELDS
from .errors import (
    EmptyUpload,
    InvalidGtin,
    PayloadTooLarge,
    ServiceError,
    UnreadableUpload,
    UnsupportedType,
)
from .lookup import LookupOutcome, LookupService, ProviderBlock
from .observability import logger, metrics
from .settings import Settings
from .uploads import (
    DynamoJobStore,
    Job,
    JobStore,
    Kind,
    kind_of,
    parse_upload_key,
    results_key,
)

if TYPE_CHECKING:
    # Imported where used: Pillow and zxing-cpp only for images, the list parser only
    # for lists (chunk messages, the bulk of a big list's work, need neither).
    from .codelist import CodeRow
    from .decode import DecodedCode

STATUSES = ("found", "not_found", "invalid_gtin", "error")
NO_BARCODE = (
    "no barcode was found in the image; try a sharper photo taken closer, "
    "with the whole barcode in view and in good light"
)
CSV_COLUMNS = ("row", "line", "code", "status", "gtin", *PRODUCT_FIELDS, "error_code", "error")
# Spreadsheets run cells starting with these as formulas: a code "=HYPERLINK(...)" in an
# uploaded list must come back as text, not as a live formula in someone's Excel.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_INPUT_PROBLEMS = (UnsupportedType, PayloadTooLarge, EmptyUpload, UnreadableUpload)
# A chunk waiting for an upstream block re-sends itself with this delay (SQS allows at
# most 900 s): until the block ends, but never sooner than a minute.
MIN_WAIT_DELAY, MAX_WAIT_DELAY = 60, 900


def work_key(upload_id: str, run: str, name: str) -> str:
    """Intermediate files of a run (chunk inputs, outputs, partial progress)."""
    return f"results/{upload_id}/runs/{run}/{name}"


def run_id(bucket: str, key: str, version: str, sequencer: str) -> str:
    """A short stable name for one object version's processing."""
    return hashlib.sha256(f"{bucket}\n{key}\n{version}\n{sequencer}".encode()).hexdigest()[:20]


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


class Pacer:
    """Spaces upstream lookups at most `per_second` apart; cache answers are not paced."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._started = 0.0

    def wait(self) -> None:
        """Before a lookup that may reach the upstream."""
        delay = self._next - self._clock()
        if delay > 0:
            self._sleep(delay)
        self._started = self._clock()

    def spent(self) -> None:
        """The lookup since `wait` reached the upstream.

        Spacing counts from the call's start, not its end, so the achieved rate is the
        configured one rather than 1 / (latency + interval).
        """
        self._next = max(self._next, self._started) + self.interval


def tally(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"total": len(rows), **dict.fromkeys(STATUSES, 0)}
    for row in rows:
        counts[row["status"]] += 1
    return counts


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def results_csv(rows: list[dict[str, Any]]) -> bytes:
    """The results as CSV with a BOM, so Excel shows Chinese product names correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        product = row.get("product") or {}
        error = row.get("error") or {}
        writer.writerow(
            _cell(v)
            for v in (
                row.get("row"),
                row.get("line"),
                row.get("code"),
                row["status"],
                product.get("gtin") or error.get("gtin"),
                *(product.get(name) for name in PRODUCT_FIELDS),
                error.get("code"),
                error.get("detail"),
            )
        )
    return out.getvalue().encode("utf-8-sig")


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
    ) -> None:
        self.settings = settings
        self.s3 = s3
        self.sqs = sqs
        self.jobs = jobs
        self.lookups = lookups
        self._clock = clock
        self._wall_clock = wall_clock  # epoch seconds: upstream blocks and waiting
        self.pacer = Pacer(settings.worker_lookups_per_second, clock, sleep)
        self._deadline = float("inf")
        self.idempotency = IdempotencyConfig(expires_after_seconds=settings.upload_job_ttl_seconds)
        once = idempotent_function(
            data_keyword_argument="identity",
            persistence_store=persistence,
            config=self.idempotency,
            key_prefix="IDEMPOTENCY#upload-object",
        )
        self._object_once = once(self._process_object)
        chunk_once = idempotent_function(
            data_keyword_argument="identity",
            persistence_store=persistence,
            config=self.idempotency,
            key_prefix="IDEMPOTENCY#upload-chunk",
        )
        self._chunk_once = chunk_once(self._process_chunk)

    # ------------------------------------------------------------------ entry points

    def start_invocation(self, context: Any) -> None:
        """Per invocation: the deadline chunks work towards, and idempotency's timeout."""
        self.idempotency.register_lambda_context(context)
        remaining = context.get_remaining_time_in_millis() / 1000.0
        self._deadline = self._clock() + remaining - self.settings.worker_time_margin_seconds

    def handle(self, body: str, receive_count: int = 1) -> dict[str, Any]:
        """Process one message body; raises to have SQS deliver it again."""
        # A warm environment keeps logger keys: drop the previous message's job id.
        logger.remove_keys(["upload_id"])
        try:
            return self._dispatch(body)
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
        for upload_id, run in _jobs_named_in(body):
            logger.error("upload gave up", extra={"upload_id": upload_id, "reason": reason})
            self.jobs.fail(upload_id, "processing_failed", detail, run)

    def _dispatch(self, body: str) -> dict[str, Any]:
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("the message is not a JSON object")
        if message.get("Event") == "s3:TestEvent":
            # S3 sends this once when the notification is configured.
            logger.info("ignoring the S3 test event")
            return {"ignored": "s3:TestEvent"}
        if message.get("kind") == "chunk":
            identity = {
                "upload_id": str(message["upload_id"]),
                "run": str(message["run"]),
                "chunk": int(message["chunk"]),
                "start": int(message.get("start", 0)),
            }
            if message.get("wait"):
                # The n-th re-send after an upstream block: a distinct message.
                identity["wait"] = int(message["wait"])
            result: dict[str, Any] = self._chunk_once(identity=identity)
            return result
        records = message.get("Records")
        if not isinstance(records, list):
            raise ValueError("the message is neither an S3 notification nor a chunk")
        outcomes = []
        for record in records:
            if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
                continue
            s3 = record["s3"]
            obj = s3["object"]
            identity = {
                "bucket": s3["bucket"]["name"],
                "key": unquote_plus(obj["key"]),
                "size": int(obj.get("size", 0)),
                "version": str(obj.get("versionId") or obj.get("eTag") or ""),
                "sequencer": str(obj.get("sequencer", "")),
            }
            outcomes.append(self._object_once(identity=identity))
        return {"objects": outcomes}

    # ------------------------------------------------------------------ objects

    def _process_object(self, identity: dict[str, Any]) -> dict[str, Any]:
        key = identity["key"]
        parsed = parse_upload_key(key)
        if parsed is None:
            # Not a key the API hands out, so there is no job to report to.
            logger.warning("ignoring an object outside the upload key scheme", extra={"key": key})
            count("UploadIgnored")
            return {"ignored": key}
        upload_id, ext = parsed
        run = run_id(identity["bucket"], key, identity["version"], identity["sequencer"])
        kind = kind_of(ext)
        job = self.jobs.begin(upload_id, run, kind)
        if job is None:
            logger.info("object already processed", extra={"upload_id": upload_id})
            return {"upload_id": upload_id, "skipped": "already processed"}
        logger.append_keys(upload_id=upload_id)
        try:
            if kind is None:
                raise UnsupportedType(f"files ending in .{ext} are not processed")
            data = self._fetch(identity, kind)
            if kind == "image":
                return self._process_image(upload_id, run, data)
            from .codelist import parse_code_list  # noqa: PLC0415 - lists only

            return self._split_list(upload_id, run, parse_code_list(data))
        except _INPUT_PROBLEMS as problem:
            count("UploadFailed")
            logger.info("upload rejected", extra={"code": problem.code, "detail": problem.detail})
            self.jobs.fail(upload_id, problem.code, problem.detail, run)
            return {"upload_id": upload_id, "failed": problem.code}

    def _fetch(self, identity: dict[str, Any], kind: Kind) -> bytes:
        limit = (
            self.settings.upload_max_image_bytes
            if kind == "image"
            else self.settings.upload_max_list_bytes
        )
        too_large = PayloadTooLarge(f"the file is larger than the {limit:,} bytes allowed")
        if identity["size"] > limit:
            raise too_large
        try:
            answer = self.s3.get_object(Bucket=identity["bucket"], Key=identity["key"])
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

    def _process_image(self, upload_id: str, run: str, data: bytes) -> dict[str, Any]:
        from .decode import decode_image  # noqa: PLC0415 - Pillow + zxing-cpp: images only

        found = decode_image(data)
        rows = [self._decoded_row(n, code) for n, code in enumerate(found, start=1)]
        self._finish(upload_id, run, rows, kind="image", message=None if rows else NO_BARCODE)
        return {"upload_id": upload_id, "rows": len(rows)}

    def _decoded_row(self, number: int, code: DecodedCode) -> dict[str, Any]:
        # Photos hold a few codes: an upstream block gives them `error` rows at once
        # rather than keeping the merchant waiting for the block to end.
        row: dict[str, Any] = {"row": number, "code": code.gtin or code.text}
        row["format"] = code.format
        if code.gtin != code.text:
            row["text"] = code.text
        if code.gtin is None:
            problem = InvalidGtin(f"this {code.format} symbol holds no GTIN")
            return {**row, **LookupOutcome(problem).answer()}
        self.pacer.wait()
        outcome = self.lookups.resolve(code.gtin)
        if outcome.called_provider:
            self.pacer.spent()
        return {**row, **outcome.answer()}

    # ------------------------------------------------------------------ lists

    def _split_list(self, upload_id: str, run: str, rows: list[CodeRow]) -> dict[str, Any]:
        size = self.settings.upload_chunk_size
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        for number, chunk in enumerate(chunks):
            payload = [[r.row, r.line, r.code] for r in chunk]
            self._put_json(work_key(upload_id, run, f"in-{number}.json"), payload)
        if self.jobs.plan(upload_id, run, len(rows), len(chunks)) is None:
            return {"upload_id": upload_id, "skipped": "superseded"}
        count("UploadRows", len(rows))
        if len(chunks) == 1:
            return self._process_chunk({"upload_id": upload_id, "run": run, "chunk": 0, "start": 0})
        messages = [
            {"kind": "chunk", "upload_id": upload_id, "run": run, "chunk": n, "start": 0}
            for n in range(len(chunks))
        ]
        self._send(messages)
        logger.info("list split into chunks", extra={"rows": len(rows), "chunks": len(chunks)})
        return {"upload_id": upload_id, "rows": len(rows), "chunks": len(chunks)}

    def _send(self, messages: list[dict[str, Any]], delay: int = 0) -> None:
        for first in range(0, len(messages), 10):
            entries: list[dict[str, Any]] = [
                {"Id": str(n), "MessageBody": json.dumps(body)}
                for n, body in enumerate(messages[first : first + 10])
            ]
            if delay:
                for entry in entries:
                    entry["DelaySeconds"] = delay
            answer = self.sqs.send_message_batch(
                QueueUrl=self.settings.uploads_queue_url, Entries=entries
            )
            if answer.get("Failed"):
                # Raise: SQS retries the whole message; chunks already sent are deduplicated.
                raise RuntimeError(f"{len(answer['Failed'])} chunk messages were not sent")

    def _process_chunk(self, identity: dict[str, Any]) -> dict[str, Any]:
        upload_id, run = identity["upload_id"], identity["run"]
        chunk, start = identity["chunk"], identity["start"]
        wait = int(identity.get("wait", 0))
        logger.append_keys(upload_id=upload_id)
        job = self.jobs.get(upload_id)
        if job is None or job.run != run or job.status != "processing":
            logger.info("chunk of a run that is over", extra={"chunk": chunk})
            return {"upload_id": upload_id, "chunk": chunk, "skipped": "run is over"}
        rows = self._get_json(work_key(upload_id, run, f"in-{chunk}.json"))
        done: list[dict[str, Any]] = []
        if start:
            done = self._get_json(work_key(upload_id, run, f"part-{chunk}-{start}.json"))
        memo: dict[str, tuple[dict[str, Any], ProviderBlock | None]] = {}
        patient = True
        for index in range(start, len(rows)):
            if index > start and self._clock() >= self._deadline:
                return self._continue_later(upload_id, run, chunk, index, done)
            number, line, code = rows[index]
            answer, upstream, blocked = self._list_row(code, memo)
            if blocked is not None and patient:
                if self._may_wait(job):
                    return self._defer(
                        identity, index, done, code=blocked.code, until=blocked.until
                    )
                patient = False
                count("UploadWaitGaveUp")
                logger.warning("upstream still blocked: no more waiting", extra={"chunk": chunk})
            elif blocked is None and job.waiting and (upstream or (wait and index == start)):
                # The block is over (a lookup reached the upstream, or the row it stopped
                # at went through): the job is no longer waiting.
                self.jobs.resume(upload_id, run)
                job.waiting = None
            done.append({"row": number, "line": line, "code": code, **answer})
        self._put_json(work_key(upload_id, run, f"out-{chunk}.json"), done)
        after = self.jobs.chunk_done(upload_id, run, chunk)
        if after is not None and after.complete:
            self._assemble(after)
        return {"upload_id": upload_id, "chunk": chunk, "rows": len(done)}

    def _list_row(
        self, code: str, memo: dict[str, tuple[dict[str, Any], ProviderBlock | None]]
    ) -> tuple[dict[str, Any], bool, ProviderBlock | None]:
        """(a code's answer, whether it called a provider, the provider block it met).

        Repeats of a GTIN in the same chunk reuse the first answer.
        """
        try:
            gtin = self.lookups.canonical_gtin(code)
        except InvalidGtin as error:
            return LookupOutcome(error).answer(), False, None
        if gtin.gtin14 in memo:
            answer, blocked = memo[gtin.gtin14]
            return answer, False, blocked
        self.pacer.wait()
        outcome = self.lookups.resolve_gtin(gtin)
        if outcome.called_provider:
            self.pacer.spent()
        answer = outcome.answer()
        memo[gtin.gtin14] = (answer, outcome.blocked)
        return answer, outcome.called_provider, outcome.blocked

    def _may_wait(self, job: Job) -> bool:
        """Whether the job may still wait for an upstream block (counted from its first)."""
        now = self._wall_clock()
        started = now if job.wait_started is None else job.wait_started
        return now - started < self.settings.upload_max_wait_seconds

    def _continue_later(
        self, upload_id: str, run: str, chunk: int, index: int, done: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Out of time: save what is done and hand the rest of the chunk to a new message."""
        self._hand_on(upload_id, run, chunk, index, done)
        count("UploadChunkContinued")
        logger.info("chunk continues in a new message", extra={"chunk": chunk, "next": index})
        return {"upload_id": upload_id, "chunk": chunk, "continued_at": index}

    def _defer(
        self,
        identity: dict[str, Any],
        index: int,
        done: list[dict[str, Any]],
        *,
        code: str,
        until: float,
    ) -> dict[str, Any]:
        """Upstream blocked at row `index`: save what is done, resume after the block.

        The job stays `processing` and shows why it waits. The re-sent message carries
        the next `wait` number, so it is never taken for one already processed; a
        delivery before the block ends meets the block again (without an upstream call)
        and re-sends itself once more.
        """
        upload_id, run, chunk = identity["upload_id"], identity["run"], identity["chunk"]
        wait = int(identity.get("wait", 0))
        now = self._wall_clock()
        delay = min(MAX_WAIT_DELAY, max(MIN_WAIT_DELAY, math.ceil(until - now)))
        if self.jobs.wait(upload_id, run, code=code, until=until, now=now) is None:
            logger.info("chunk of a run that is over", extra={"chunk": chunk})
            return {"upload_id": upload_id, "chunk": chunk, "skipped": "run is over"}
        self._hand_on(upload_id, run, chunk, index, done, wait=wait + 1, delay=delay)
        count("UploadChunkDeferred")
        logger.info(
            "chunk waits for an upstream block to end",
            extra={"chunk": chunk, "next": index, "code": code, "delay": delay},
        )
        return {"upload_id": upload_id, "chunk": chunk, "deferred_at": index, "delay": delay}

    def _hand_on(
        self,
        upload_id: str,
        run: str,
        chunk: int,
        index: int,
        done: list[dict[str, Any]],
        *,
        wait: int = 0,
        delay: int = 0,
    ) -> None:
        """Save the rows before `index` and send a message for the rest of the chunk."""
        message: dict[str, Any] = {"kind": "chunk", "upload_id": upload_id, "run": run}
        message.update(chunk=chunk, start=index)
        if wait:
            message["wait"] = wait
        if index:
            # Rewritten with the same rows when a chunk waits again at the same place.
            self._put_json(work_key(upload_id, run, f"part-{chunk}-{index}.json"), done)
        self._send([message], delay=delay)

    def _assemble(self, job: Job) -> None:
        """Results of every chunk, in input order, into the result files and the job."""
        run, total = job.run or "", job.chunks_total or 0
        rows: list[dict[str, Any]] = []
        for chunk in range(total):
            rows.extend(self._get_json(work_key(job.upload_id, run, f"out-{chunk}.json")))
        self._finish(job.upload_id, run, rows, kind="list", message=None)

    # ------------------------------------------------------------------ results

    def _finish(
        self,
        upload_id: str,
        run: str,
        rows: list[dict[str, Any]],
        *,
        kind: Kind,
        message: str | None,
    ) -> None:
        counts = tally(rows)
        document: dict[str, Any] = {"upload_id": upload_id, "status": "done", "kind": kind}
        document["counts"] = counts
        if message:
            document["message"] = message
        document["results"] = rows
        json_key = results_key(upload_id, "json")
        self._put_json(json_key, document)
        csv_key = None
        if kind == "list":
            csv_key = results_key(upload_id, "csv")
            self._put(csv_key, results_csv(rows), "text/csv; charset=utf-8")
        inline = rows if len(rows) <= self.settings.upload_inline_results else None
        finished = self.jobs.finish(
            upload_id,
            run,
            counts=counts,
            inline=inline,
            json_key=json_key,
            csv_key=csv_key,
            message=message,
        )
        if finished is not None:
            count("UploadDone")
            logger.info("upload done", extra={"counts": counts})

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(
            Bucket=self.settings.uploads_bucket, Key=key, Body=body, ContentType=content_type
        )

    def _put_json(self, key: str, value: Any) -> None:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        self._put(key, body, "application/json")

    def _get_json(self, key: str) -> Any:
        answer = self.s3.get_object(Bucket=self.settings.uploads_bucket, Key=key)
        return json.loads(answer["Body"].read())


def _jobs_named_in(body: str) -> list[tuple[str, str | None]]:
    """(upload id, run or None) of every job a message is about, as far as it can be read."""
    try:
        message = json.loads(body)
    except ValueError:
        return []
    if not isinstance(message, dict):
        return []
    if message.get("kind") == "chunk" and isinstance(message.get("upload_id"), str):
        return [(message["upload_id"], message.get("run"))]
    named: list[tuple[str, str | None]] = []
    for record in message.get("Records") or []:
        try:
            parsed = parse_upload_key(unquote_plus(record["s3"]["object"]["key"]))
        except (KeyError, TypeError):
            continue
        if parsed is not None:
            named.append((parsed[0], None))
    return named


def build_upload_worker(settings: Settings, lookups: LookupService) -> UploadWorker:
    """The worker wired to the real bucket, queue and table."""
    import boto3  # noqa: PLC0415 - keeps this module importable without AWS config

    dynamodb = boto3.client("dynamodb")
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.cache_table,
        key_attr="pk",
        expiry_attr="expires_at",
        boto3_client=dynamodb,
    )
    return UploadWorker(
        settings,
        s3=boto3.client("s3"),
        sqs=boto3.client("sqs"),
        jobs=DynamoJobStore(
            settings.cache_table, dynamodb, ttl_seconds=settings.upload_job_ttl_seconds
        ),
        lookups=lookups,
        persistence=persistence,
    )
