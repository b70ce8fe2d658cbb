"""Label sheets from an uploaded list: `POST /uploads` with `purpose: "labels"`.

The upload request carries the sheet (`labels`: everything a `POST /labels` body has
but the labels: `sheet`, `start_at`, `offset_mm`, `dpi`, `text_size_pt`), checked when
the upload is created and kept with the job. The file is a CSV of labels, one a row:
`type,content,line1,line2,line3,line4` by position, or by name under a header row that
names them (`copies` may be a column too). The worker draws them exactly as
`POST /labels` would (`label_pdf`), up to `MAX_UPLOAD_LABELS`; the job's result is the
PDF. A row that cannot be printed fails the job, naming its line and what would fit.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..codelist import decode_text
from ..errors import (
    EmptyUpload,
    InvalidParam,
    InvalidParameter,
    ServiceError,
    UnreadableUpload,
    Unscannable,
)
from ..labels import FIELDS, parse_labels
from ..observability import count, logger
from .bucket import UploadBucket
from .jobs import JobStore
from .messages import WorkReport
from .policy import PURPOSES, RESULTS_PREFIX

MAX_UPLOAD_LABELS = 10_000
"""Labels (copies counted) one uploaded list may place: ~10-20 s of the worker's 120."""
COLUMNS = ("type", "content", "line1", "line2", "line3", "line4")
NAMED_COLUMNS = (*COLUMNS, "copies")
OPTIONS = tuple(name for name in FIELDS if name not in ("labels", "response"))
_LABEL_INDEX = re.compile(r"^labels\[(\d+)\]")


def label_job(purpose: Any, options: Any, ext: str) -> dict[str, Any] | None:
    """The sheet of a label-sheet upload (purpose "labels", a .csv), None for another one."""
    if purpose is not None and purpose not in PURPOSES:
        raise InvalidParameter(
            f"purpose must be {' or '.join(repr(p) for p in PURPOSES)}", field="purpose"
        )
    if purpose != "labels":
        if options is not None:
            raise InvalidParameter('"labels" goes with purpose "labels"', field="labels")
        return None
    if ext != "csv":
        raise InvalidParameter(
            'purpose "labels" takes a CSV (text/csv) of type,content,line1,...',
            field="content_type",
        )
    return label_options(options)


def label_options(value: Any) -> dict[str, Any]:
    """The upload request's sheet options, checked as `POST /labels` checks them."""
    if not isinstance(value, Mapping):
        raise InvalidParameter(
            'purpose "labels" needs "labels": {"sheet": <template name or grid>, ...}',
            field="labels",
        )
    unknown = sorted(set(value) - set(OPTIONS))
    if unknown:
        raise InvalidParameter(
            f"unknown field {unknown[0]!r}; the labels of an upload take {', '.join(OPTIONS)} "
            "(the labels themselves are the uploaded CSV)",
            field=f"labels.{unknown[0]}",
        )
    placeholder = [{"type": "qrcode", "content": "0"}]
    try:
        parse_labels({**value, "labels": placeholder})
    except ServiceError as error:
        error.invalid_params = tuple(
            InvalidParam(f"labels.{p.name}", p.reason) for p in error.invalid_params
        )
        raise
    return dict(value)


@dataclass(frozen=True)
class LabelRow:
    """One CSV row as a label body, and the file line it came from."""

    line: int
    label: dict[str, Any]


def label_rows(data: bytes) -> list[LabelRow]:
    """Every label of the CSV, blank lines skipped; UnreadableUpload / EmptyUpload otherwise."""
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[LabelRow] = []
    columns: tuple[str, ...] = COLUMNS
    try:
        for raw in reader:
            line = reader.line_num
            cells = [cell.strip().lstrip("\ufeff") for cell in raw]
            if not any(cells):
                continue
            if not rows and columns is COLUMNS and cells[0].lower() == "type":
                columns = _header(cells, line)
                continue
            rows.append(LabelRow(line, _label(dict(zip(columns, cells, strict=False)), line)))
    except csv.Error as error:
        raise UnreadableUpload(
            f"the CSV cannot be read near line {reader.line_num}: {error}"
        ) from None
    if not rows:
        raise EmptyUpload("the file holds no labels (rows of type,content,line1,...)")
    return rows


def _header(cells: list[str], line: int) -> tuple[str, ...]:
    names = tuple(cell.lower() for cell in cells)
    unknown = [name for name in names if name not in NAMED_COLUMNS]
    if unknown or "content" not in names:
        raise UnreadableUpload(
            f"line {line}: a header names the columns {', '.join(NAMED_COLUMNS)} "
            f"(type and content needed); got {', '.join(repr(n[:20]) for n in names[:8])}"
        )
    return names


def _label(cells: dict[str, str], line: int) -> dict[str, Any]:
    label: dict[str, Any] = {"type": cells.get("type", ""), "content": cells.get("content", "")}
    lines = [cells.get(name, "") for name in COLUMNS[2:]]
    while lines and not lines[-1]:
        lines.pop()
    if lines:
        label["lines"] = lines
    copies = cells.get("copies", "")
    if copies:
        if not copies.isdigit():
            raise UnreadableUpload(
                f"line {line}: copies must be a whole number; got {copies[:20]!r}"
            )
        label["copies"] = int(copies)
    return label


def label_sheet(options: Mapping[str, Any], data: bytes) -> tuple[bytes, int, int]:
    """(PDF, labels, pages) of an uploaded list on the job's sheet; a row that cannot be
    printed is an InvalidParameter (or Unscannable) naming its file line."""
    from ..label_pdf import render_labels  # noqa: PLC0415 - reportlab: labels jobs only

    rows = label_rows(data)
    body = {**options, "labels": [row.label for row in rows]}
    try:
        made = render_labels(parse_labels(body, max_labels=MAX_UPLOAD_LABELS))
    except ServiceError as error:
        raise _by_line(error, rows) from None
    return made.body, made.labels, made.pages


def _by_line(error: ServiceError, rows: list[LabelRow]) -> ServiceError:
    """The error with `labels[i]` / `label i` named by the CSV line instead."""
    lines = {f"labels[{i}]": f"line {row.line}" for i, row in enumerate(rows)}

    def renamed(name: str) -> str:
        match = _LABEL_INDEX.match(name)
        return lines[match.group(0)] + name[match.end() :] if match else name

    error.invalid_params = tuple(
        InvalidParam(renamed(p.name), p.reason) for p in error.invalid_params
    )
    first = error.invalid_params[0].name if error.invalid_params else ""
    if first.startswith("line "):
        detail = re.sub(r"^label \d+: ", "", error.detail)
        error.detail = f"{first.split('.', 1)[0]}: {detail}"
    return error


def finish_labels(
    bucket: UploadBucket,
    jobs: JobStore,
    upload_id: str,
    *,
    run: str,
    data: bytes,
    sheet: Mapping[str, Any],
) -> WorkReport:
    """Draw a label-sheet job's CSV and finish the job with the PDF as its result; a row
    that cannot be printed fails the job naming its line (the worker handles unreadable
    and empty files as for any list)."""
    try:
        pdf, labels, pages = label_sheet(sheet, data)
    except (InvalidParameter, Unscannable) as problem:
        count("UploadFailed")
        logger.info("label upload rejected", extra={"code": problem.code})
        jobs.fail(upload_id, problem.code, problem.detail, run)
        return WorkReport(upload_id, failed=problem.code)
    key = f"{RESULTS_PREFIX}{upload_id}.pdf"
    bucket.put(key, pdf, "application/pdf")
    message = f"{labels} labels on {pages} page{'s' if pages != 1 else ''}: results_url is the PDF"
    counts = {"total": labels, "labels": labels, "pages": pages}
    done = jobs.finish(
        upload_id, run, counts=counts, inline=None, json_key=key, csv_key=None, message=message
    )
    if done is not None:
        count("UploadDone")
    return WorkReport(upload_id, rows=labels)
