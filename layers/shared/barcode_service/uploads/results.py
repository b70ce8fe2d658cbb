"""Result rows of an upload: statuses, the tally, the CSV, and the finished job's files."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..cache import PRODUCT_FIELDS
from ..observability import count, logger
from ..settings import Settings
from .bucket import UploadBucket
from .jobs import JobStore
from .policy import Kind, results_key

STATUSES = ("found", "not_found", "invalid_gtin", "error")
CSV_COLUMNS = ("row", "line", "code", "status", "gtin", *PRODUCT_FIELDS, "error_code", "error")
# Spreadsheets run cells starting with these as formulas: a code "=HYPERLINK(...)" in an
# uploaded list must come back as text, not as a live formula in someone's Excel.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


class ResultWriter:
    """Writes a finished run's result files and marks its job `done`."""

    def __init__(self, settings: Settings, bucket: UploadBucket, jobs: JobStore) -> None:
        self.settings = settings
        self.bucket = bucket
        self.jobs = jobs

    def finish(
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
        self.bucket.put_json(json_key, document)
        csv_key = None
        if kind == "list":
            csv_key = results_key(upload_id, "csv")
            self.bucket.put(csv_key, results_csv(rows), "text/csv; charset=utf-8")
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
