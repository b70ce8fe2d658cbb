"""The `GET /uploads/{id}` view of a job: status, counts, progress, results, why it waits."""

from __future__ import annotations

from typing import Any

from .jobs import Job
from .results import empty_counts


def waiting_message(waiting: dict[str, str]) -> str:
    """What a merchant reads while a job waits for an upstream block to end."""
    until = waiting.get("until", "")
    if waiting.get("code") == "upstream_quota_exhausted":
        reason = "the product lookup service's daily quota is used up"
    elif waiting.get("code") == "client_budget_exceeded":
        reason = "this API key's (or user's) daily lookup budget is used up"
    else:
        reason = "the product lookup service is unavailable to this account for now"
    return (
        f"{reason}; the remaining rows will be looked up after {until}, "
        "nothing needs to be uploaded again"
    )


def status_view(job: Job, presign: Any) -> dict[str, Any]:
    """The `GET /uploads/{id}` body of a job; `presign(key)` makes a GET URL."""
    counts = empty_counts()
    counts.update(job.counts)
    if job.status != "done" and job.rows_total is not None:
        counts["total"] = job.rows_total
    body: dict[str, Any] = {
        "upload_id": job.upload_id,
        "status": job.status,
        "kind": job.kind,
        "purpose": job.purpose,
        "filename": job.filename,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "counts": counts,
    }
    if job.status == "processing" and job.chunks_total:
        body["progress"] = {"chunks_done": len(job.chunks_done), "chunks_total": job.chunks_total}
    if job.status == "done":
        if job.results is not None:
            body["results"] = job.results
        elif job.results_key:
            body["results_url"] = presign(job.results_key)
        if job.results_csv_key:
            body["results_csv_url"] = presign(job.results_csv_key)
    if job.message:
        body["message"] = job.message
    elif job.status == "processing" and job.waiting:
        body["message"] = waiting_message(job.waiting)
    if job.status == "failed" and job.error:
        body["error"] = job.error
    return body
