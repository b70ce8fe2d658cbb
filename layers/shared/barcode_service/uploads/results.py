"""Result rows of an upload: statuses, the tally, the CSV, and the finished job's files."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from ..observability import count, logger
from ..product import PRODUCT_FIELDS
from ..rows import CodeRow
from ..settings import Settings
from ..statuses import LOOKUP_STATUSES
from .bucket import UploadBucket
from .jobs import JobStore
from .policy import Kind, results_key

CSV_COLUMNS = ("row", "line", "code", "status", "gtin", *PRODUCT_FIELDS, "error_code", "error")
# Spreadsheets run cells starting with these as formulas: a code "=HYPERLINK(...)" in an
# uploaded list must come back as text, not as a live formula in someone's Excel.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def empty_counts() -> dict[str, int]:
    """The counts of a job before any row is done: the lookup statuses at 0."""
    return {"total": 0, **dict.fromkeys(map(str, LOOKUP_STATUSES), 0)}


def tally(rows: Sequence[CodeRow]) -> dict[str, int]:
    """Rows per status; a photo's `restricted` and `no_gtin` appear when they occur."""
    counts = {**empty_counts(), "total": len(rows)}
    for row in rows:
        counts[str(row.status)] = counts.get(str(row.status), 0) + 1
    return counts


def csv_cell(value: Any) -> str:
    """A CSV cell as text; one a spreadsheet would run as a formula stays text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def results_csv(rows: Sequence[CodeRow]) -> bytes:
    """The results as CSV with a BOM, so Excel shows Chinese product names correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        product = row.product or {}
        error = row.error or {}
        writer.writerow(
            csv_cell(v)
            for v in (
                row.row,
                row.line,
                row.code,
                row.status,
                product.get("gtin") or error.get("gtin") or row.gtin,
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
        rows: Sequence[CodeRow],
        *,
        kind: Kind,
        message: str | None,
    ) -> None:
        """Result files (JSON, and CSV for lists), then the job `done` with its counts."""
        counts = tally(rows)
        plain = [row.to_dict() for row in rows]
        document: dict[str, Any] = {"upload_id": upload_id, "status": "done", "kind": kind}
        document["counts"] = counts
        if message:
            document["message"] = message
        document["results"] = plain
        json_key = results_key(upload_id, "json")
        self.bucket.put_json(json_key, document)
        csv_key = None
        if kind == "list":
            csv_key = results_key(upload_id, "csv")
            self.bucket.put(csv_key, results_csv(rows), "text/csv; charset=utf-8")
        inline = plain if len(plain) <= self.settings.upload_inline_results else None
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
