"""The worker's work files: a chunk's input rows (`in-<n>.json`) and its results so far
(`part-<n>-<start>.json`, `out-<n>.json`), under the run's work prefix.

Versioned (`{"version": 1, ...}`), so a file written before a deploy is still read
after it: each reader takes every version it knows, the unversioned lists of the
first format included (`[[row, line, code], ...]` and `[row dict, ...]`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..codelist import ListedCode
from ..rows import CodeRow

VERSION = 1


class UnknownWorkFile(ValueError):
    """A work file in a version this code does not know (written by a newer deploy)."""


def rows_document(rows: Sequence[ListedCode]) -> dict[str, Any]:
    """A chunk's input rows as its work file stores them."""
    return {
        "version": VERSION,
        "rows": [{"row": r.row, "line": r.line, "code": r.code} for r in rows],
    }


def read_rows(document: Any) -> list[ListedCode]:
    """A chunk's input rows from its work file, in any version."""
    if isinstance(document, list):  # the first format: [row, line, code] lists
        return [ListedCode(int(row), int(line), str(code)) for row, line, code in document]
    _check(document)
    return [ListedCode(int(r["row"]), int(r["line"]), str(r["code"])) for r in document["rows"]]


def results_document(rows: Sequence[CodeRow]) -> dict[str, Any]:
    """Result rows (a chunk's so far, or all of it) as a work file stores them."""
    return {"version": VERSION, "results": [row.to_dict() for row in rows]}


def read_results(document: Any) -> list[CodeRow]:
    """Result rows from a work file, in any version."""
    if isinstance(document, list):  # the first format: the rows' dicts
        return [CodeRow.from_dict(row) for row in document]
    _check(document)
    return [CodeRow.from_dict(row) for row in document["results"]]


def _check(document: Any) -> None:
    if not isinstance(document, dict) or document.get("version") != VERSION:
        version = document.get("version") if isinstance(document, dict) else None
        raise UnknownWorkFile(f"a work file of version {version!r} is not known here")
