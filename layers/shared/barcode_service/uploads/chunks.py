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

import dataclasses
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..codelist import ListedCode
from ..lookup import LookupService
from ..observability import count, logger
from ..rows import CodeRow
from ..settings import Settings
from .bucket import UploadBucket
from .jobs import Job, JobStore
from .lookahead import Lookahead
from .messages import ChunkMessage, WorkReport, send_chunks
from .policy import upload_ref, work_key
from .results import ResultWriter
from .workfiles import read_results, read_rows, results_document, rows_document

if TYPE_CHECKING:
    from ..router import Pace

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
        pacer: Pace,
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

    def split(self, upload_id: str, run: str, rows: list[ListedCode]) -> WorkReport:
        """Store a list's rows by chunk and process them: here if one, else by message."""
        size = self.settings.upload_chunk_size
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        for number, chunk in enumerate(chunks):
            self.bucket.put_json(
                work_key(upload_id, run, f"in-{number}.json"), rows_document(chunk)
            )
        if self.jobs.plan(upload_id, run, len(rows), len(chunks)) is None:
            return WorkReport(upload_id, skipped="superseded")
        count("UploadRows", len(rows))
        if len(chunks) == 1:
            return self.process(ChunkMessage(upload_id, run, 0).identity())
        self._send([ChunkMessage(upload_id, run, n) for n in range(len(chunks))])
        logger.info("list split into chunks", extra={"rows": len(rows), "chunks": len(chunks)})
        return WorkReport(upload_id, rows=len(rows), chunks=len(chunks))

    def _send(self, messages: list[ChunkMessage], delay: int = 0) -> None:
        send_chunks(self.sqs, self.settings.uploads_queue_url, messages, delay)

    def process(self, identity: dict[str, Any]) -> WorkReport:
        """Look the rows of one chunk message up (`identity` is ChunkMessage.identity())."""
        message = ChunkMessage(**identity)
        upload_id, run, chunk, start = message.upload_id, message.run, message.chunk, message.start
        logger.append_keys(upload_ref=upload_ref(upload_id))
        job = self.jobs.get(upload_id)
        if job is None or job.run != run or job.status != "processing":
            logger.info("chunk of a run that is over", extra={"chunk": chunk})
            return WorkReport(upload_id, chunk, skipped="run is over")
        rows = read_rows(self.bucket.get_json(work_key(upload_id, run, f"in-{chunk}.json")))
        done: list[CodeRow] = []
        if start:
            part = self.bucket.get_json(work_key(upload_id, run, f"part-{chunk}-{start}.json"))
            done = read_results(part)
        codes = [row.code for row in rows]
        ahead = Lookahead(
            self.lookups,
            codes,
            self.settings.worker_lookup_concurrency,
            budget=self.lookups.budget_for(job.owner),  # the upload's creator pays its lookups
            pace=self.pacer,
            caller=job.owner,
        )
        with ahead:
            stopped = self._look_up(message, job, rows, done, ahead)
        if stopped is not None:
            return stopped
        self.bucket.put_json(work_key(upload_id, run, f"out-{chunk}.json"), results_document(done))
        after = self.jobs.chunk_done(upload_id, run, chunk)
        if after is not None and after.complete:
            self._assemble(after)
        return WorkReport(upload_id, chunk, rows=len(done))

    def _look_up(
        self,
        message: ChunkMessage,
        job: Job,
        rows: list[ListedCode],
        done: list[CodeRow],
        ahead: Lookahead,
    ) -> WorkReport | None:
        """Rows from `message.start` on, in order, into `done`; the answer of a chunk that
        stops early (out of time, or waiting for a block), None when every row is done."""
        patient = True
        for index in range(message.start, len(rows)):
            if index > message.start and self._clock() >= self.deadline:
                return self._continue_later(message, index, done)
            listed = rows[index]
            outcome, called = ahead.outcome(index)
            blocked = outcome.blocked
            if blocked is not None and patient:
                if self._may_wait(job):
                    return self._defer(message, index, done, code=blocked.code, until=blocked.until)
                patient = False
                count("UploadWaitGaveUp")
                logger.warning(
                    "upstream still blocked: no more waiting", extra={"chunk": message.chunk}
                )
            elif (
                blocked is None
                and job.waiting
                and (called or (message.wait and index == message.start))
            ):
                # The block is over (a lookup reached the upstream, or the row it stopped
                # at went through): the job is no longer waiting.
                self.jobs.resume(message.upload_id, message.run)
                job.waiting = None
            done.append(CodeRow.of(outcome, code=listed.code, row=listed.row, line=listed.line))
        return None

    def _may_wait(self, job: Job) -> bool:
        """Whether the job may still wait for an upstream block (counted from its first)."""
        now = self._wall_clock()
        started = now if job.wait_started is None else job.wait_started
        return now - started < self.settings.upload_max_wait_seconds

    def _continue_later(self, message: ChunkMessage, index: int, done: list[CodeRow]) -> WorkReport:
        """Out of time: save what is done and hand the rest of the chunk to a new message."""
        self._hand_on(dataclasses.replace(message, start=index, wait=0), done)
        count("UploadChunkContinued")
        logger.info(
            "chunk continues in a new message", extra={"chunk": message.chunk, "next": index}
        )
        return WorkReport(message.upload_id, message.chunk, continued_at=index)

    def _defer(
        self,
        message: ChunkMessage,
        index: int,
        done: list[CodeRow],
        *,
        code: str,
        until: float,
    ) -> WorkReport:
        """Upstream blocked at row `index`: save what is done, resume after the block.

        The job stays `processing` and shows why it waits. The re-sent message carries
        the next `wait` number, so it is never taken for one already processed; a
        delivery before the block ends meets the block again (without an upstream call)
        and re-sends itself once more.
        """
        upload_id, run, chunk = message.upload_id, message.run, message.chunk
        now = self._wall_clock()
        delay = min(MAX_WAIT_DELAY, max(MIN_WAIT_DELAY, math.ceil(until - now)))
        if self.jobs.wait(upload_id, run, code=code, until=until, now=now) is None:
            logger.info("chunk of a run that is over", extra={"chunk": chunk})
            return WorkReport(upload_id, chunk, skipped="run is over")
        later = dataclasses.replace(message, start=index, wait=message.wait + 1)
        self._hand_on(later, done, delay=delay)
        count("UploadChunkDeferred")
        logger.info(
            "chunk waits for an upstream block to end",
            extra={"chunk": chunk, "next": index, "code": code, "delay": delay},
        )
        return WorkReport(upload_id, chunk, deferred_at=index, delay=delay)

    def _hand_on(self, message: ChunkMessage, done: list[CodeRow], *, delay: int = 0) -> None:
        """Save the rows before `message.start` and send `message` for the rest."""
        if message.start:
            # Rewritten with the same rows when a chunk waits again at the same place.
            name = f"part-{message.chunk}-{message.start}.json"
            self.bucket.put_json(
                work_key(message.upload_id, message.run, name), results_document(done)
            )
        self._send([message], delay=delay)

    def _assemble(self, job: Job) -> None:
        """Results of every chunk, in input order, into the result files and the job."""
        run, total = job.run or "", job.chunks_total or 0
        rows: list[CodeRow] = []
        for chunk in range(total):
            out = self.bucket.get_json(work_key(job.upload_id, run, f"out-{chunk}.json"))
            rows.extend(read_results(out))
        self.results.finish(job.upload_id, run, rows, kind="list", message=None)
