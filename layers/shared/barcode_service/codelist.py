"""Code lists: uploaded CSV/TXT bytes -> one row per code, in input order.

Accepted: one code per line, or a CSV (`,` `;` tab or `|`) with a `code`, `barcode` or
`gtin` column (case-insensitive). UTF-8 with or without BOM, UTF-16 with BOM (Excel's
"Unicode text"), else GB18030 (Chinese Excel exports); CRLF, blank lines and quoted
fields are handled. Anything else fails with a reason a person can act on.

Limits, so that no file can crash or swamp the worker (each a failed job naming the
line, before any lookup): a line of at most MAX_LINE_CHARS characters (the csv module
raises past 128 KiB in a field), a row of at most MAX_COLUMNS cells, and at most
`max_rows` codes, counted without keeping the rest. A code cell longer than any code
(MAX_CODE_CHARS) keeps its first MAX_CODE_CHARS characters and an ellipsis: its row is
`invalid_gtin` like any bad code, and a results document stays small.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

from .canonical import MAX_TEXT_LENGTH
from .errors import EmptyUpload, PayloadTooLarge, UnreadableUpload

# Most specific first: a sheet with both `code` (an internal SKU) and `barcode`
# means the barcode.
HEADER_NAMES = ("barcode", "gtin", "ean", "upc", "条码", "条形码", "商品条码", "code")
DELIMITERS = (",", ";", "\t", "|")
MAX_LINE_CHARS = 65_536
"""Characters one line (one CSV record) may have: a code list needs far fewer."""
MAX_COLUMNS = 1_000
"""Cells one row may have (a spreadsheet export of a product table has a few dozen)."""
MAX_CODE_CHARS = MAX_TEXT_LENGTH
"""Characters of a code cell that are kept: the longest text a lookup reads."""


@dataclass(frozen=True)
class ListedCode:
    """One input row: its 1-based number among the data rows, file line, and code as given."""

    row: int
    line: int
    code: str


def decode_text(data: bytes) -> str:
    """The file's text; UnreadableUpload when it is binary or in an unknown encoding."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableUpload("the file starts like UTF-16 text but is not") from None
    if b"\x00" in data:
        raise UnreadableUpload("the file is binary, not a text list of codes")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableUpload("the file is not UTF-8 (or GB18030) text; save it as UTF-8 CSV")


def _delimiter(first_line: str) -> str | None:
    """The delimiter that splits the header/first line into most fields, if any does."""
    best, fields = None, 1
    for candidate in DELIMITERS:
        try:
            count = len(next(csv.reader([first_line], delimiter=candidate), []))
        except csv.Error:  # pragma: no cover - lines are within the field limit
            continue
        if count > fields:
            best, fields = candidate, count
    return best


def _header_column(cells: list[str]) -> int | None:
    names = [cell.strip().strip("\ufeff").strip().lower() for cell in cells]
    for wanted in HEADER_NAMES:
        if wanted in names:
            return names.index(wanted)
    return None


_OVERLONG = re.compile(r"[^\r\n]{%d,}" % (MAX_LINE_CHARS + 1))  # noqa: UP031 - a regex
_LINE_END = re.compile(r"[\r\n]")


def _check_lines(text: str) -> None:
    """UnreadableUpload naming the first line over MAX_LINE_CHARS (no list of lines made)."""
    found = _OVERLONG.search(text)
    if found is not None:
        number = text.count("\n", 0, found.start()) + 1
        raise UnreadableUpload(
            f"the list cannot be read: line {number} has {len(found.group()):,} characters, "
            f"and a line may have at most {MAX_LINE_CHARS:,}; save the sheet with only its "
            "code column, or one code per line"
        )


def _first_line(text: str) -> str | None:
    """The first line that is not blank (found without splitting the whole text)."""
    found = re.search(r"\S", text)
    if found is None:
        return None
    start = max(text.rfind("\n", 0, found.start()), text.rfind("\r", 0, found.start())) + 1
    end = _LINE_END.search(text, found.start())
    return text[start : end.start() if end else len(text)]


def _check_columns(cells: list[str], line: int) -> None:
    if len(cells) > MAX_COLUMNS:
        raise UnreadableUpload(
            f"the list cannot be read: line {line} has {len(cells):,} columns, and a row may "
            f"have at most {MAX_COLUMNS:,}; save the sheet with only its code column"
        )


def _code(cell: str) -> str:
    code = cell.strip().strip("\ufeff")
    return code if len(code) <= MAX_CODE_CHARS else code[:MAX_CODE_CHARS] + "…"


def too_many_rows(count: int, max_rows: int) -> PayloadTooLarge:
    """The problem of a list over the row cap (UPLOAD_MAX_ROWS)."""
    return PayloadTooLarge(
        f"the list has {count:,} rows; at most {max_rows:,} are looked up per "
        "upload: split it into smaller files"
    )


def parse_code_list(data: bytes, max_rows: int | None = None) -> list[ListedCode]:
    """Every data row of a code list with its code, blank lines skipped.

    With `max_rows`, a longer list is PayloadTooLarge naming its row count (rows past
    the cap are counted, not kept: a 5 MB file of one-digit lines is 2.6 million rows).
    """
    text = decode_text(data)
    _check_lines(text)
    first = _first_line(text)
    if first is None:
        raise EmptyUpload("the file holds no codes")
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or ",")
    rows: list[ListedCode] = []
    counted = 0
    column = 0
    header_seen = False
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            _check_columns(cells, start)
            if not header_seen:
                header_seen = True
                named = _header_column(cells)
                if named is not None:
                    column = named
                    continue
                if delimiter is not None and not any(c.isdigit() for c in cells[0]):
                    shown = ", ".join(repr(c.strip()[:30]) for c in cells[:8])
                    raise UnreadableUpload(
                        "the CSV has no code, barcode or gtin column "
                        f"(its first row is {shown}); add a header naming the code column"
                    )
            counted += 1
            if max_rows is not None and counted > max_rows:
                continue  # counted for the problem, not kept
            code = _code(cells[column]) if column < len(cells) else ""
            rows.append(ListedCode(row=counted, line=start, code=code))
    except csv.Error as error:
        raise UnreadableUpload(f"the CSV cannot be read near line {line + 1}: {error}") from None
    if not rows:
        raise EmptyUpload("the file has a header but no codes")
    if max_rows is not None and counted > max_rows:
        raise too_many_rows(counted, max_rows)
    return rows
