"""Lists in chunks: split, process, continue before the deadline, defer for a block, assemble.

Rows go to S3 (`in-<n>.json`), one SQS message per chunk, each processed by any
worker; a number set on the job records finished chunks, and the worker that sees
the set complete assembles the results in input order. A chunk that cannot finish
before the Lambda deadline saves its progress and sends itself on. A chunk that
meets a provider block (daily quota used up, account problem) does the same with a
delayed message and marks the job `waiting`, so nothing is lost to the block; it
gives up waiting (error rows, as for photos) after UPLOAD_MAX_WAIT_SECONDS.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import InvalidGtin
from ..lookup import LookupOutcome, LookupService, ProviderBlock
from ..observability import count, logger
from ..settings import Settings
from .bucket import UploadBucket
from .jobs import Job, JobStore
from .pacing import Pacer
from .policy import work_key
from .results import ResultWriter

if TYPE_CHECKING:
    from ..codelist import CodeRow

# A chunk waiting for an upstream block re-sends itself with this delay (SQS allows at
# most 900 s): until the block ends, but never sooner than a minute.
MIN_WAIT_DELAY, MAX_WAIT_DELAY = 60, 900


class ChunkProcessor:
    """The list half of the worker; `deadline` is set per invocation by the worker."""

    def __init__(
        self,
        settings: Settings,
        *,
        sqs: Any,
        jobs: JobStore,
        lookups: LookupService,
        bucket: UploadBucket,
        results: ResultWriter,
        pacer: Pacer,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.sqs = sqs
        self.jobs = jobs
        self.lookups = lookups
        self.bucket = bucket
        self.results = results
        self.pacer = pacer
        self._clock = clock
        self._wall_clock = wall_clock  # epoch seconds: upstream blocks and waiting
        self.deadline = float("inf")

    def split(self, upload_id: str, run: str, rows: list[CodeRow]) -> dict[str, Any]:
        size = self.settings.upload_chunk_size
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        for number, chunk in enumerate(chunks):
            payload = [[r.row, r.line, r.code] for r in chunk]
            self.bucket.put_json(work_key(upload_id, run, f"in-{number}.json"), payload)
        if self.jobs.plan(upload_id, run, len(rows), len(chunks)) is None:
            return {"upload_id": upload_id, "skipped": "superseded"}
        count("UploadRows", len(rows))
        if len(chunks) == 1:
            return self.process({"upload_id": upload_id, "run": run, "chunk": 0, "start": 0})
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

    def process(self, identity: dict[str, Any]) -> dict[str, Any]:
        upload_id, run = identity["upload_id"], identity["run"]
        chunk, start = identity["chunk"], identity["start"]
        wait = int(identity.get("wait", 0))
        logger.append_keys(upload_id=upload_id)
        job = self.jobs.get(upload_id)
        if job is None or job.run != run or job.status != "processing":
            logger.info("chunk of a run that is over", extra={"chunk": chunk})
            return {"upload_id": upload_id, "chunk": chunk, "skipped": "run is over"}
        rows = self.bucket.get_json(work_key(upload_id, run, f"in-{chunk}.json"))
        done: list[dict[str, Any]] = []
        if start:
            done = self.bucket.get_json(work_key(upload_id, run, f"part-{chunk}-{start}.json"))
        memo: dict[str, tuple[dict[str, Any], ProviderBlock | None]] = {}
        patient = True
        for index in range(start, len(rows)):
            if index > start and self._clock() >= self.deadline:
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
        self.bucket.put_json(work_key(upload_id, run, f"out-{chunk}.json"), done)
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
            self.bucket.put_json(work_key(upload_id, run, f"part-{chunk}-{index}.json"), done)
        self._send([message], delay=delay)

    def _assemble(self, job: Job) -> None:
        """Results of every chunk, in input order, into the result files and the job."""
        run, total = job.run or "", job.chunks_total or 0
        rows: list[dict[str, Any]] = []
        for chunk in range(total):
            rows.extend(self.bucket.get_json(work_key(job.upload_id, run, f"out-{chunk}.json")))
        self.results.finish(job.upload_id, run, rows, kind="list", message=None)
