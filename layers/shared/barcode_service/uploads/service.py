"""The API side of uploads: a pending job with its presigned POST, and the status view."""

from __future__ import annotations

import hmac
from typing import Any

from ..errors import NotFound, ServiceError
from ..settings import Settings
from .jobs import JobStore
from .policy import (
    check_upload_id,
    choose_purpose,
    choose_type,
    display_filename,
    max_bytes,
    new_upload_id,
    upload_key,
)
from .status import status_view


class UploadService:
    """The API side of uploads: create a job with its presigned POST, report status."""

    def __init__(self, settings: Settings, s3: Any, jobs: JobStore) -> None:
        self.settings = settings
        self.s3 = s3
        self.jobs = jobs

    def _require_bucket(self) -> str:
        if not self.settings.uploads_bucket:
            raise ServiceError("no uploads bucket is configured (UPLOADS_BUCKET)")
        return self.settings.uploads_bucket

    def create(
        self,
        filename: Any,
        content_type: Any,
        base_url: str,
        owner: str,
        purpose: Any = "lookup",
        *,
        labels: Any = None,
    ) -> dict[str, Any]:
        """A new pending job of `owner` (callers.Caller.key) and the presigned POST that
        uploads its one file; `purpose` "product_image" keeps a photo for a contribution,
        "labels" makes label sheets of a CSV instead of looking its codes up
        (uploads/labels.py, with the sheet's options in `labels`)."""
        ext, kind, bare_type = choose_type(filename, content_type)
        chosen = choose_purpose(purpose, kind)
        sheet = None
        if chosen == "labels" or labels is not None:
            # Lazy: the label modules (zint's catalog, the sheet table) for label uploads only.
            from .labels import label_job  # noqa: PLC0415

            sheet = label_job(chosen, labels, ext)
        bucket = self._require_bucket()
        upload_id = new_upload_id()
        key = upload_key(upload_id, ext)
        limit = max_bytes(self.settings, kind)
        expires = self.settings.upload_url_expires_seconds
        # S3 enforces these conditions on the POST itself: size and type checks do not
        # depend on the client being honest.
        post = self.s3.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": bare_type},
            Conditions=[{"Content-Type": bare_type}, ["content-length-range", 1, limit]],
            ExpiresIn=expires,
        )
        shown = display_filename(str(filename))
        self.jobs.create(upload_id, kind, shown, bare_type, owner, purpose=chosen, labels=sheet)
        return {
            "upload_id": upload_id,
            "upload": {"url": post["url"], "fields": post["fields"]},
            "expires_in": expires,
            "max_bytes": limit,
            "status_url": f"{base_url.rstrip('/')}/uploads/{upload_id}",
        }

    def status(self, upload_id: str, owner: str) -> dict[str, Any]:
        """Status, counts and results (inline or a presigned URL) of one upload of `owner`.

        Another caller's upload is answered exactly like an unknown id: a 404 that does
        not even say the id exists. The detail does not repeat the id.
        """
        job = self.jobs.get(check_upload_id(upload_id))
        if job is None or not owner or not hmac.compare_digest(job.owner or "", owner):
            days = max(1, self.settings.upload_job_ttl_seconds // 86_400)
            raise NotFound(
                f"no such upload is known to this API key or user (uploads are kept {days} days)"
            )
        bucket = self._require_bucket()

        def presign(key: str) -> str:
            url: str = self.s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": bucket, "Key": key},
                ExpiresIn=self.settings.upload_results_url_expires_seconds,
            )
            return url

        return status_view(job, presign)
