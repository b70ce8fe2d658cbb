"""Result rows of an upload: statuses, the tally, the CSV, and the finished job's files."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..cache import PRODUCT_FIELDS
from ..lookup import LookupOutcome, RowStatus
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


@dataclass(frozen=True)
class ResultRow:
    """One input row or decoded code and what its lookup found.

    `row` and `line` place a list row; `format` (and `text`, when the symbol held more
    than its GTIN, and `position` in the photo) describe a decoded code. `product` or
    `error` is the lookup's answer.
    """

    code: str
    status: RowStatus
    product: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    row: int | None = None
    line: int | None = None
    format: str | None = None
    text: str | None = None
    position: dict[str, int] | None = None

    @classmethod
    def of(
        cls,
        outcome: LookupOutcome,
        code: str,
        *,
        row: int | None = None,
        line: int | None = None,
        format: str | None = None,
        text: str | None = None,
        position: dict[str, int] | None = None,
    ) -> ResultRow:
        """The row of one lookup outcome."""
        answer = outcome.answer()
        return cls(
            code=code,
            status=outcome.status,
            product=answer.get("product"),
            error=answer.get("error"),
            row=row,
            line=line,
            format=format,
            text=text,
            position=position,
        )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ResultRow:
        """A row as `to_dict` wrote it (work files, result documents)."""
        return cls(
            code=str(raw["code"]),
            status=raw["status"],
            product=raw.get("product"),
            error=raw.get("error"),
            row=raw.get("row"),
            line=raw.get("line"),
            format=raw.get("format"),
            text=raw.get("text"),
            position=raw.get("position"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The row in results: its place, the code, then status and product or error."""
        body: dict[str, Any] = {}
        if self.row is not None:
            body["row"] = self.row
        if self.line is not None:
            body["line"] = self.line
        body["code"] = self.code
        if self.format is not None:
            body["format"] = self.format
        if self.text is not None:
            body["text"] = self.text
        if self.position is not None:
            body["position"] = self.position
        body["status"] = self.status
        if self.product is not None:
            body["product"] = self.product
        if self.error is not None:
            body["error"] = self.error
        return body


def empty_counts() -> dict[str, int]:
    """The counts of a job before any row is done."""
    return {"total": 0, **dict.fromkeys(STATUSES, 0)}


def tally(rows: Sequence[ResultRow]) -> dict[str, int]:
    counts = {**empty_counts(), "total": len(rows)}
    for row in rows:
        counts[row.status] += 1
    return counts


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def results_csv(rows: Sequence[ResultRow]) -> bytes:
    """The results as CSV with a BOM, so Excel shows Chinese product names correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        product = row.product or {}
        error = row.error or {}
        writer.writerow(
            _cell(v)
            for v in (
                row.row,
                row.line,
                row.code,
                row.status,
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
        rows: Sequence[ResultRow],
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
