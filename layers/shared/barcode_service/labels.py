"""A label-sheet request (POST /labels): every field validated and normalised, and its digest.

`parse_labels` turns the JSON body into a `LabelsRequest` or raises one
InvalidParameter whose `invalid_params` name the wrong fields by path
(`labels[3].content`, `sheet.columns`, ...). The digest of the normalised request
names the stored PDF, so the same sheet asked twice is drawn once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .barcode_request import DEFAULT_DPI, MAX_DPI, MIN_DPI, content_digest
from .errors import InvalidParam, InvalidParameter, ServiceError, refuse_nulls
from .pdf import drawable
from .sheets import Sheet, parse_sheet
from .symbologies import Symbology, find_symbology, validate_content

MAX_LABELS = 1000
"""Labels (copies counted) one request may place; longer lists go through uploads."""
MAX_LINES = 4
MAX_LINE_CHARACTERS = 200
MAX_OFFSET_MM = 20.0
DEFAULT_TEXT_PT, MIN_TEXT_PT, MAX_TEXT_PT = 8.0, 4.0, 36.0
MAX_LISTED_ERRORS = 20
LABELS_VERSION = 1
"""Part of the digest: bump when the same request would draw a different PDF."""

FIELDS = ("sheet", "labels", "start_at", "offset_mm", "dpi", "text_size_pt", "response")
LABEL_FIELDS = ("type", "content", "lines", "copies", "show_text")


@dataclass(frozen=True)
class Label:
    """One label as asked: a barcode, up to four lines of text, how many copies."""

    symbology: Symbology
    content: str
    lines: tuple[str, ...] = ()
    copies: int = 1
    show_text: bool = False


@dataclass(frozen=True)
class LabelsRequest:
    """A validated sheet request; lengths in mm, positions 1-based."""

    sheet: Sheet
    labels: tuple[Label, ...]
    start_at: int = 1
    offset_mm: tuple[float, float] = (0.0, 0.0)
    dpi: int = DEFAULT_DPI
    text_size_pt: float = DEFAULT_TEXT_PT

    @property
    def count(self) -> int:
        """Labels placed, copies counted."""
        return sum(label.copies for label in self.labels)

    @property
    def pages(self) -> int:
        per_page = self.sheet.per_page
        return -(-(self.start_at - 1 + self.count) // per_page)

    @property
    def digest(self) -> str:
        """sha256 of the normalised request: the stored PDF's name and its ETag."""
        return content_digest(
            {
                "v": LABELS_VERSION,
                "sheet": self.sheet.to_dict(),
                "labels": [
                    [one.symbology.name, one.content, list(one.lines), one.copies, one.show_text]
                    for one in self.labels
                ],
                "start_at": self.start_at,
                "offset_mm": list(self.offset_mm),
                "dpi": self.dpi,
                "text_size_pt": self.text_size_pt,
            }
        )

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


class _Errors:
    """Collects field errors so that one answer names every wrong field (up to a limit)."""

    def __init__(self) -> None:
        self.params: list[InvalidParam] = []
        self.first: ServiceError | None = None

    def take(self, where: str, read: Any, fallback: Any = None) -> Any:
        try:
            return read()
        except ServiceError as error:
            self.first = self.first or error
            params = error.invalid_params or (InvalidParam("", error.detail),)
            for param in params:
                name = f"{where}.{param.name}" if param.name and where else param.name or where
                self.params.append(InvalidParam(name, param.reason))
            return fallback

    def raise_any(self) -> None:
        if self.first is None:
            return
        if len(self.params) == 1:
            raise InvalidParameter(
                f"{self.params[0].name}: {self.params[0].reason}", invalid_params=self.params
            )
        shown = self.params[:MAX_LISTED_ERRORS]
        names = ", ".join(dict.fromkeys(p.name for p in shown))
        more = (
            f" (and {len(self.params) - len(shown)} more)" if len(self.params) > len(shown) else ""
        )
        raise InvalidParameter(
            f"invalid fields: {names}{more}; see invalid_params", invalid_params=shown
        )


def parse_labels(body: Mapping[str, Any], *, max_labels: int = MAX_LABELS) -> LabelsRequest:
    """Validate a POST /labels body into a request, or raise a 400 naming every bad field.

    `max_labels`: labels (copies counted) allowed; an upload's list may hold more."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidParameter(
            f"unknown field {unknown[0]!r}; a label sheet has {', '.join(FIELDS)}",
            field=unknown[0],
        )
    refuse_nulls(body, "fields")
    errors = _Errors()
    sheet = errors.take("", lambda: parse_sheet(body.get("sheet")))
    dpi = errors.take("", lambda: _whole(body, "dpi", MIN_DPI, MAX_DPI, DEFAULT_DPI), DEFAULT_DPI)
    text_pt = errors.take("", lambda: _text_size(body), DEFAULT_TEXT_PT)
    offset = errors.take("", lambda: _offset(body.get("offset_mm")), (0.0, 0.0))
    labels = _labels(body.get("labels"), errors, max_labels)
    per_page = sheet.per_page if sheet else 1
    start_at = errors.take("", lambda: _whole(body, "start_at", 1, per_page, 1), 1)
    errors.raise_any()
    assert sheet is not None  # raise_any raised otherwise
    return LabelsRequest(sheet, labels, start_at, offset, dpi, text_pt)


def _labels(value: Any, errors: _Errors, most: int) -> tuple[Label, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        errors.take("", lambda: _refuse("labels", f"labels must be a list of 1 to {most}"))
        return ()
    if len(value) > most:
        longer = " (POST /uploads with purpose labels takes more)" if most == MAX_LABELS else ""
        errors.take("", lambda: _refuse("labels", f"at most {most} labels per request{longer}"))
        return ()
    labels = []
    for index, item in enumerate(value):
        label = errors.take(f"labels[{index}]", lambda item=item: parse_label(item, most))
        if label is not None:
            labels.append(label)
    total = sum(label.copies for label in labels)
    if total > most:
        reason = f"{total} labels with their copies; at most {most} per request"
        errors.take("", lambda: _refuse("labels", reason))
    return tuple(labels)


def parse_label(item: Any, most_copies: int = MAX_LABELS) -> Label:
    """One label object; errors name fields relative to it (`content`, `lines[1]`...)."""
    if not isinstance(item, Mapping):
        raise InvalidParameter("each label must be an object", field="")
    unknown = sorted(set(item) - set(LABEL_FIELDS))
    if unknown:
        _refuse(unknown[0], f"unknown field; a label has {', '.join(LABEL_FIELDS)}")
    type_name = item.get("type")
    if not isinstance(type_name, str) or not type_name:
        _refuse("type", "a barcode type is required (GET /barcodes/types)")
    try:
        symbology = find_symbology(type_name)
    except ServiceError as error:
        raise error.about("type") from None
    content = item.get("content")
    if isinstance(content, int) and not isinstance(content, bool):
        content = str(content)
    if not isinstance(content, str):
        _refuse("content", "content is required (a string)")
    try:
        content = validate_content(symbology, content)
    except ServiceError as error:
        raise InvalidParameter(error.detail, field="content") from None
    show_text = item.get("show_text", False)
    if not isinstance(show_text, bool):
        _refuse("show_text", "must be true or false")
    copies = _copies(item, most_copies)
    return Label(symbology, content, _lines(item.get("lines", [])), copies, show_text)


def _lines(value: Any) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) > MAX_LINES:
        _refuse("lines", f"lines must be a list of at most {MAX_LINES} strings")
    lines = []
    for index, line in enumerate(value):
        if not isinstance(line, str) or len(line) > MAX_LINE_CHARACTERS:
            _refuse(
                f"lines[{index}]", f"must be a string of at most {MAX_LINE_CHARACTERS} characters"
            )
        if not drawable(line):
            _refuse(
                f"lines[{index}]",
                "holds a character the label font (Helvetica, "
                "Windows-1252) cannot draw, or a control character",
            )
        lines.append(line)
    return tuple(lines)


def _copies(item: Mapping[str, Any], most: int) -> int:
    value = item.get("copies", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        _refuse("copies", f"must be a whole number from 1 to {most}")
    return int(value)


def _refuse(field: str, reason: str) -> NoReturn:
    raise InvalidParameter(reason, field=field)


def _whole(body: Mapping[str, Any], name: str, least: int, most: int, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        _refuse(name, f"{name} must be a whole number from {least} to {most}")
    return int(value)


def _text_size(body: Mapping[str, Any]) -> float:
    value = body.get("text_size_pt", DEFAULT_TEXT_PT)
    if isinstance(value, bool) or not isinstance(value, int | float):
        _refuse("text_size_pt", "text_size_pt must be a number of points")
    if not MIN_TEXT_PT <= value <= MAX_TEXT_PT:
        _refuse("text_size_pt", f"text_size_pt must be from {MIN_TEXT_PT:g} to {MAX_TEXT_PT:g}")
    return float(value)


def _offset(value: Any) -> tuple[float, float]:
    if value is None:
        return (0.0, 0.0)
    if not isinstance(value, Mapping) or not set(value) <= {"x", "y"}:
        _refuse("offset_mm", 'offset_mm must be {"x": mm, "y": mm}')
    shifts = []
    for axis in ("x", "y"):
        shift = value.get(axis, 0)
        if isinstance(shift, bool) or not isinstance(shift, int | float):
            _refuse(f"offset_mm.{axis}", "must be a number of mm")
        if abs(shift) > MAX_OFFSET_MM:
            _refuse(f"offset_mm.{axis}", f"must be within +-{MAX_OFFSET_MM:g} mm")
        shifts.append(float(shift))
    return shifts[0], shifts[1]
