"""No job stays `processing` forever: stalled runs are resumed, or finished saying why.

A run's progress lives in its job record and work files (`in-<n>.json` per chunk, the
`part-<n>-<row>.json` a chunk saved before handing on, `out-<n>.json` once done), but
its next step lives in an SQS message, and a message can be lost: past the queue's
retention, redriven to the dead-letter queue, or (locally) dropped with a killed
process. Scheduled every few minutes (template `UploadSweeperFunction`; the local stack
runs it too, and once at start for the jobs a killed stack left behind), the sweeper
finds the jobs being processed (the table's sparse `ActiveJobs` index) whose record has
not moved for UPLOAD_STALL_SECONDS, and:

- a list that was split into chunks is resumed from its stored state: each unfinished
  chunk is sent again from its last saved row (a new `redrive` number, so it is not
  taken for the lost message), at most UPLOAD_STALL_RESUMES times;
- after that, it is finished: the rows done keep their results and every other row gets
  an `error` row with a `processing_stalled` problem saying why;
- a job that stalled before its list was split, or a photo, has no rows to answer: it
  is `failed` with `processing_stalled`.

A resume is a conditional write on the record as it was seen, so two sweepers, or a
worker that was only slow, never both act on one job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import ProcessingStalled
from ..observability import count, logger
from ..rows import CodeRow
from ..settings import Settings
from ..statuses import CodeStatus
from .bucket import UploadBucket
from .jobs import Job, JobStore
from .messages import ChunkMessage, send_chunks
from .policy import upload_ref, work_key
from .results import ResultWriter
from .workfiles import read_results, read_rows

STALLED = ProcessingStalled.code


@dataclass
class SweepReport:
    """What one sweep did (counts; upload ids never leave the function)."""

    active: int = 0
    resumed: int = 0
    finished: int = 0
    failed: int = 0
    refs: list[str] = field(default_factory=list)  # upload refs of the jobs acted on

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "resumed": self.resumed,
            "finished": self.finished,
            "failed": self.failed,
        }


class Sweeper:
    """Resumes or finishes stalled upload jobs (one instance per warm environment)."""

    def __init__(
        self,
        settings: Settings,
        *,
        jobs: JobStore,
        bucket: UploadBucket,
        sqs: Any,
        results: ResultWriter,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.bucket = bucket
        self.sqs = sqs
        self.results = results
        self._clock = wall_clock

    def sweep(self, stalled_after: float | None = None) -> SweepReport:
        """Act on every processing job whose record is older than `stalled_after` seconds
        (UPLOAD_STALL_SECONDS by default; 0 at a local stack's start: every job a killed
        stack left `processing` has no worker any more)."""
        seconds = self.settings.upload_stall_seconds if stalled_after is None else stalled_after
        cutoff = datetime.fromtimestamp(self._clock() - seconds, UTC).isoformat()
        report = SweepReport()
        for upload_id, updated_at in self.jobs.active():
            report.active += 1
            if updated_at > cutoff:
                continue
            job = self.jobs.get(upload_id)
            if job is None or job.status != "processing" or (job.updated_at or "") > cutoff:
                continue
            report.refs.append(upload_ref(upload_id))
            self._stalled(job, report, seconds)
        if report.refs:
            logger.info("stalled uploads swept", extra=report.to_dict())
        return report

    def _stalled(self, job: Job, report: SweepReport, seconds: float) -> None:
        minutes = max(1, round(seconds / 60))
        if job.run is None or job.chunks_total is None:
            detail = (
                f"the upload made no progress for {minutes} minutes before its rows were "
                "read (a worker stopped); upload the file again"
            )
            if self.jobs.fail(job.upload_id, STALLED, detail, job.run) is not None:
                report.failed += 1
                count("UploadStalledFailed")
        elif job.redrives < self.settings.upload_stall_resumes:
            if self._resume(job):
                report.resumed += 1
                count("UploadStalledResumed")
        else:
            self._finish(job, minutes)
            report.finished += 1
            count("UploadStalledFinished")

    def _resume(self, job: Job) -> bool:
        """Send every unfinished chunk again from its last saved row."""
        run, total = job.run or "", job.chunks_total or 0
        moved = self.jobs.redrive(job.upload_id, run, job.updated_at or "")
        if moved is None:
            return False  # the job moved meanwhile, or another sweeper took it
        messages = [
            ChunkMessage(
                job.upload_id, run, chunk, start=self._saved(job, chunk), redrive=moved.redrives
            )
            for chunk in range(total)
            if chunk not in job.chunks_done
        ]
        send_chunks(self.sqs, self.settings.uploads_queue_url, messages)
        logger.info(
            "stalled upload resumed",
            extra={"upload_ref": upload_ref(job.upload_id), "chunks": len(messages)},
        )
        return True

    def _saved(self, job: Job, chunk: int) -> int:
        """The row a chunk had saved its progress up to (0: none)."""
        prefix = work_key(job.upload_id, job.run or "", f"part-{chunk}-")
        starts = [int(key[len(prefix) :].removesuffix(".json")) for key in self.bucket.keys(prefix)]
        return max(starts, default=0)

    def _finish(self, job: Job, minutes: int) -> None:
        """Every row answered: the done ones as they are, the others `error` saying why."""
        run = job.run or ""
        problem = ProcessingStalled(
            f"this row was not looked up: the upload made no progress for {minutes} minutes "
            f"after {job.redrives} attempts to resume it; upload these rows again"
        ).to_problem()

        def load(name: str) -> Any:
            return self.bucket.get_json(work_key(job.upload_id, run, name))

        rows: list[CodeRow] = []
        unanswered = 0
        for chunk in range(job.chunks_total or 0):
            if chunk in job.chunks_done:
                rows += read_results(load(f"out-{chunk}.json"))
                continue
            start = self._saved(job, chunk)
            if start:
                rows += read_results(load(f"part-{chunk}-{start}.json"))
            left = [
                CodeRow(
                    CodeStatus.ERROR,
                    code=listed.code,
                    error=problem,
                    row=listed.row,
                    line=listed.line,
                )
                for listed in read_rows(load(f"in-{chunk}.json"))[start:]
            ]
            unanswered += len(left)
            rows += left
        message = (
            f"{unanswered} of {len(rows)} rows were not looked up: the upload stalled "
            "(see each row's error); upload those rows again"
        )
        self.results.finish(job.upload_id, run, rows, kind="list", message=message)
        logger.warning(
            "stalled upload finished with error rows",
            extra={"upload_ref": upload_ref(job.upload_id), "unanswered": unanswered},
        )
