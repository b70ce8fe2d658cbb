"""Code lists: uploaded CSV/TXT bytes -> one row per code, in input order.

Accepted: one code per line, or a CSV (`,` `;` tab or `|`) with a `code`, `barcode` or
`gtin` column (case-insensitive). UTF-8 with or without BOM, UTF-16 with BOM (Excel's
"Unicode text"), else GB18030 (Chinese Excel exports); CRLF, blank lines and quoted
fields are handled. Anything else fails with a reason a person can act on.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from .errors import EmptyUpload, UnreadableUpload

# Most specific first: a sheet with both `code` (an internal SKU) and `barcode`
# means the barcode.
HEADER_NAMES = ("barcode", "gtin", "ean", "upc", "条码", "条形码", "商品条码", "code")
DELIMITERS = (",", ";", "\t", "|")


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
        count = len(next(csv.reader([first_line], delimiter=candidate), []))
        if count > fields:
            best, fields = candidate, count
    return best


def _header_column(cells: list[str]) -> int | None:
    names = [cell.strip().strip("\ufeff").strip().lower() for cell in cells]
    for wanted in HEADER_NAMES:
        if wanted in names:
            return names.index(wanted)
    return None


def parse_code_list(data: bytes) -> list[ListedCode]:
    """Every data row of a code list with its code, blank lines skipped."""
    text = decode_text(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise EmptyUpload("the file holds no codes")
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or ",")
    rows: list[ListedCode] = []
    column = 0
    header_seen = False
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
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
            code = cells[column].strip().strip("\ufeff") if column < len(cells) else ""
            rows.append(ListedCode(row=len(rows) + 1, line=start, code=code))
    except csv.Error as error:
        raise UnreadableUpload(f"the CSV cannot be read near line {line + 1}: {error}") from None
    if not rows:
        raise EmptyUpload("the file has a header but no codes")
    return rows
