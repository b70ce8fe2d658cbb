"""Upload job records: `UPLOAD#<id>` items in the cache table, and their store.

The API creates a job (`pending`); the worker moves it to `processing` and then
`done` or `failed`. Every worker transition is a conditional write naming the run
(one S3 object version), so a re-delivered or stale message can never overwrite a
newer run's state or finish a job twice. A `processing` job may be `waiting` for a
provider block (daily quota, account problem) to end.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError

from .. import dynamo
from .policy import Kind, Purpose

JobStatus = Literal["pending", "processing", "done", "failed"]

# Every worker write after `begin` holds only while the job is still this run's and
# still processing: a stale or re-delivered message can never touch a newer run.
_IN_RUN = "#run = :run AND #s = :processing"
ACTIVE_INDEX = "ActiveJobs"
"""The table's sparse index of the jobs being processed: `begin` sets `active_job`,
`finish` and `fail` remove it, so only processing jobs are in it (sweeper.py reads it)."""


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass
class Job:
    """One upload job as stored."""

    upload_id: str
    status: JobStatus
    kind: Kind | None = None
    filename: str | None = None
    content_type: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    run: str | None = None
    rows_total: int | None = None
    chunks_total: int | None = None
    chunks_done: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    results: list[dict[str, Any]] | None = None
    results_key: str | None = None
    results_csv_key: str | None = None
    message: str | None = None
    error: dict[str, str] | None = None
    waiting: dict[str, str] | None = None
    wait_started: int | None = None
    owner: str | None = None  # callers.Caller.key of its creator (never a key id or user)
    redrives: int = 0  # times the sweeper re-sent its unfinished chunks
    purpose: Purpose = "lookup"  # "product_image": a photo kept for a contribution
    labels: dict[str, Any] | None = None  # a label-sheet job's sheet options (uploads/labels.py)

    @classmethod
    def from_item(cls, raw: dict[str, Any]) -> Job:
        item = dynamo.plain(dynamo.from_item(raw))
        results_json = item.get("results_json")
        return cls(
            upload_id=str(item["upload_id"]),
            status=item.get("status", "pending"),
            kind=item.get("kind"),
            filename=item.get("filename"),
            content_type=item.get("content_type"),
            created_at=item.get("created_at"),
            updated_at=item.get("updated_at"),
            run=item.get("run"),
            rows_total=item.get("rows_total"),
            chunks_total=item.get("chunks_total"),
            chunks_done=list(item.get("chunks_done") or []),
            counts=dict(item.get("counts") or {}),
            results=json.loads(results_json) if results_json else None,
            results_key=item.get("results_key"),
            results_csv_key=item.get("results_csv_key"),
            message=item.get("message"),
            error=item.get("error"),
            waiting=item.get("waiting"),
            wait_started=item.get("wait_started"),
            owner=item.get("owner"),
            redrives=int(item.get("redrives") or 0),
            purpose=item.get("purpose") or "lookup",
            labels=json.loads(item["labels_json"]) if item.get("labels_json") else None,
        )

    @property
    def complete(self) -> bool:
        """Every chunk of a split list has reported its results."""
        return self.chunks_total is not None and len(self.chunks_done) >= self.chunks_total


def job_key(upload_id: str) -> dict[str, Any]:
    return dynamo.key(f"UPLOAD#{upload_id}")


class JobStore(Protocol):
    """Upload job records: created by the API, moved along by the worker's runs.

    Every worker method returns the job after the write, or None when the write did
    not apply (the run is over or another run's).
    """

    def create(
        self,
        upload_id: str,
        kind: Kind,
        filename: str,
        content_type: str,
        owner: str = "",
        *,
        purpose: Purpose = "lookup",
        labels: dict[str, Any] | None = None,
    ) -> Job:
        """The `pending` job the API creates before the client uploads anything, for `owner`
        ("" = nobody may read it), for `purpose`; `labels`: the sheet of a label-sheet job."""
        ...

    def get(self, upload_id: str) -> Job | None:
        """The job as stored, or None."""
        ...

    def begin(self, upload_id: str, run: str, kind: Kind | None) -> Job | None:
        """Start processing one object version."""
        ...

    def plan(self, upload_id: str, run: str, rows_total: int, chunks_total: int) -> Job | None:
        """Record how many rows and chunks this run has."""
        ...

    def chunk_done(self, upload_id: str, run: str, chunk: int) -> Job | None:
        """Mark one chunk finished."""
        ...

    def wait(self, upload_id: str, run: str, *, code: str, until: float, now: float) -> Job | None:
        """Record that the run waits for a provider block (`code`) to end at `until`."""
        ...

    def resume(self, upload_id: str, run: str) -> Job | None:
        """Drop the `waiting` reason."""
        ...

    def finish(
        self,
        upload_id: str,
        run: str,
        *,
        counts: dict[str, int],
        inline: list[dict[str, Any]] | None,
        json_key: str,
        csv_key: str | None,
        message: str | None,
    ) -> Job | None:
        """Mark the run `done`."""
        ...

    def fail(self, upload_id: str, code: str, detail: str, run: str | None = None) -> Job | None:
        """Mark the job `failed` with a reason, unless it is already done."""
        ...

    def active(self) -> list[tuple[str, str]]:
        """(upload id, updated_at) of every job being processed."""
        ...

    def redrive(self, upload_id: str, run: str, seen: str) -> Job | None:
        """Count one more re-send of the run's chunks, if it has not moved since `seen`
        (its updated_at)."""
        ...


class DynamoJobStore:
    """Reads and conditionally writes `UPLOAD#<id>` items (a `JobStore`)."""

    def __init__(
        self, table_name: str, client: Any, *, ttl_seconds: int, clock: Any = time.time
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return dynamo.call(self.client, operation, "job table", TableName=self.table_name, **kwargs)

    def _update(self, upload_id: str, expression: str, condition: str, **values: Any) -> Job | None:
        """One conditional UpdateItem; the new job, or None when the condition failed."""
        names = {"#s": "status", "#run": "run", "#err": "error"}
        try:
            answer = self._call(
                "update_item",
                Key=job_key(upload_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    k: v for k, v in names.items() if k in expression + condition
                },
                ExpressionAttributeValues={f":{k}": dynamo.value(v) for k, v in values.items()},
                ReturnValues="ALL_NEW",
            )
        except ClientError:
            return None
        return Job.from_item(answer["Attributes"])

    def _update_run(
        self, upload_id: str, run: str, expression: str, *, also: str = "", **values: Any
    ) -> Job | None:
        """`_update` while the job is still this run's and processing (and `also` holds).

        Supplies `:run`, `:processing` and `:now` (the time, for updated_at).
        """
        condition = f"{_IN_RUN} AND {also}" if also else _IN_RUN
        values.update(run=run, processing="processing", now=_iso(self._clock()))
        return self._update(upload_id, expression, condition, **values)

    def create(
        self,
        upload_id: str,
        kind: Kind,
        filename: str,
        content_type: str,
        owner: str = "",
        *,
        purpose: Purpose = "lookup",
        labels: dict[str, Any] | None = None,
    ) -> Job:
        """The `pending` job the API creates before the client uploads anything, for `owner`
        (a callers.Caller.key: only that caller may read it, and its lookups are charged to
        that caller's budget), for `purpose`; `labels`: the sheet of a label-sheet job."""
        now = self._clock()
        item = {
            "pk": f"UPLOAD#{upload_id}",
            "upload_id": upload_id,
            "status": "pending",
            "kind": kind,
            "filename": filename,
            "content_type": content_type,
            "owner": owner or None,
            "purpose": purpose if purpose != "lookup" else None,
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "expires_at": int(now) + self.ttl_seconds,
        }
        if labels is not None:
            item["labels_json"] = json.dumps(labels, ensure_ascii=False, separators=(",", ":"))
        self._call(
            "put_item",
            Item=dynamo.to_item(item),
            ConditionExpression="attribute_not_exists(pk)",
        )
        return Job.from_item(dynamo.to_item(item))

    def get(self, upload_id: str) -> Job | None:
        answer = self._call("get_item", Key=job_key(upload_id), ConsistentRead=True)
        item = answer.get("Item")
        return Job.from_item(item) if item else None

    def begin(self, upload_id: str, run: str, kind: Kind | None) -> Job | None:
        """Start processing one object version; None if that run has already ended.

        A new run (a first delivery, or the same key uploaded again) starts from a clean
        slate; a retry of the current run keeps its progress, because chunk messages it
        sent before failing may already have finished.
        """
        now = self._clock()
        fresh = self._update(
            upload_id,
            "SET #s = :processing, #run = :run, kind = :kind, upload_id = :id, "
            "updated_at = :now, created_at = if_not_exists(created_at, :now), "
            "expires_at = if_not_exists(expires_at, :expires), active_job = :processing "
            "REMOVE chunks_done, chunks_total, rows_total, counts, results_json, "
            "results_key, results_csv_key, #err, message, waiting, wait_started, redrives",
            "attribute_not_exists(#run) OR #run <> :run",
            processing="processing",
            run=run,
            kind=kind,
            id=upload_id,
            now=_iso(now),
            expires=int(now) + self.ttl_seconds,
        )
        if fresh is not None:
            return fresh
        current = self.get(upload_id)
        if current is not None and current.status == "processing":
            return current
        return None

    def plan(self, upload_id: str, run: str, rows_total: int, chunks_total: int) -> Job | None:
        """Record how many rows and chunks this run has."""
        return self._update_run(
            upload_id,
            run,
            "SET rows_total = :rows, chunks_total = :chunks, updated_at = :now",
            rows=rows_total,
            chunks=chunks_total,
        )

    def chunk_done(self, upload_id: str, run: str, chunk: int) -> Job | None:
        """Mark one chunk finished; the job afterwards, or None if the run is over.

        A number set, not a counter: ADD of a member already present changes nothing,
        so a chunk that is reported twice is still counted once.
        """
        return self._update_run(
            upload_id, run, "ADD chunks_done :chunk SET updated_at = :now", chunk={Decimal(chunk)}
        )

    def wait(self, upload_id: str, run: str, *, code: str, until: float, now: float) -> Job | None:
        """Record that the run waits for an upstream block (`code`) to end at `until`.

        `wait_started` keeps the first wait's time for the whole run: the worker's cap
        on waiting counts from there. None if the run is over.
        """
        return self._update_run(
            upload_id,
            run,
            "SET waiting = :waiting, wait_started = if_not_exists(wait_started, :started), "
            "updated_at = :now",
            waiting={"code": code, "until": _iso(until)},
            started=int(now),
        )

    def resume(self, upload_id: str, run: str) -> Job | None:
        """Lookups go through again: drop the `waiting` reason (None if there was none)."""
        return self._update_run(
            upload_id,
            run,
            "REMOVE waiting SET updated_at = :now",
            also="attribute_exists(waiting)",
        )

    def finish(
        self,
        upload_id: str,
        run: str,
        *,
        counts: dict[str, int],
        inline: list[dict[str, Any]] | None,
        json_key: str,
        csv_key: str | None,
        message: str | None,
    ) -> Job | None:
        """Mark the run `done` (once: a second finisher finds the condition false)."""
        values: dict[str, Any] = {"done": "done", "counts": counts, "json_key": json_key}
        expression = "SET #s = :done, counts = :counts, results_key = :json_key, updated_at = :now"
        if inline is not None:
            expression += ", results_json = :inline"
            values["inline"] = json.dumps(inline, ensure_ascii=False, separators=(",", ":"))
        if csv_key is not None:
            expression += ", results_csv_key = :csv_key"
            values["csv_key"] = csv_key
        if message is not None:
            expression += ", message = :message"
            values["message"] = message
        expression += " REMOVE waiting, active_job"  # a finished job waits for nothing
        return self._update_run(upload_id, run, expression, **values)

    def fail(self, upload_id: str, code: str, detail: str, run: str | None = None) -> Job | None:
        """Mark the job `failed` with a reason, unless it is already done (or another run's)."""
        values: dict[str, Any] = {
            "failed": "failed",
            "error": {"code": code, "detail": detail},
            "id": upload_id,
            "now": _iso(self._clock()),
            "done": "done",
            "expires": int(self._clock()) + self.ttl_seconds,
        }
        condition = "(attribute_not_exists(#s) OR #s <> :done)"
        if run is not None:
            condition += " AND #run = :run"
            values["run"] = run
        return self._update(
            upload_id,
            "SET #s = :failed, #err = :error, upload_id = :id, updated_at = :now, "
            "created_at = if_not_exists(created_at, :now), "
            "expires_at = if_not_exists(expires_at, :expires) REMOVE active_job",
            condition,
            **values,
        )

    def active(self) -> list[tuple[str, str]]:
        """(upload id, updated_at) of every job being processed, from the sparse index."""
        found: list[tuple[str, str]] = []
        start: dict[str, Any] | None = None
        while True:
            page = self._call(
                "query",
                IndexName=ACTIVE_INDEX,
                KeyConditionExpression="active_job = :processing",
                ExpressionAttributeValues={":processing": {"S": "processing"}},
                **({"ExclusiveStartKey": start} if start else {}),
            )
            for raw in page.get("Items", []):
                item = dynamo.plain(dynamo.from_item(raw))
                pk = str(item.get("pk", ""))
                if pk.startswith("UPLOAD#"):
                    found.append((pk.removeprefix("UPLOAD#"), str(item.get("updated_at", ""))))
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def redrive(self, upload_id: str, run: str, seen: str) -> Job | None:
        """Count one more re-send of the run's chunks, unless the job moved since `seen`
        (its updated_at then): two sweepers, or a worker that was only slow, win alone."""
        return self._update_run(
            upload_id,
            run,
            "SET redrives = if_not_exists(redrives, :zero) + :one, updated_at = :now",
            also="updated_at = :seen",
            zero=0,
            one=1,
            seen=seen,
        )
