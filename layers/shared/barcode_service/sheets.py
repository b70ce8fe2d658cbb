"""Label sheets: the named templates (one data table) and custom grids, in mm.

A sheet is a page with a grid of equal labels: `columns` x `rows` labels of
`label_width` x `label_height`, the first one's top-left at (`left`, `top`) from the
page's top-left, the next ones `pitch_x` / `pitch_y` further (label size plus gap).
Positions are numbered 1.. across each row, then down (how Avery numbers them).

The named templates are the manufacturer's published template specifications (the
tests check each against them, with the source); US sheets are given in inches there
and converted here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParam, InvalidParameter

MM_PER_INCH = 25.4
A4 = (210.0, 297.0)
LETTER = (8.5 * MM_PER_INCH, 11 * MM_PER_INCH)
PAGES = {"a4": A4, "letter": LETTER}
MAX_PAGE_MM = 1200.0  # a custom page up to 1.2 m (banner stock); a label at least 5 mm
MIN_LABEL_MM = 5.0
MAX_GRID = 100  # columns or rows of a custom grid


@dataclass(frozen=True)
class Sheet:
    """One label sheet layout, lengths in mm."""

    name: str
    page: tuple[float, float]  # width, height
    columns: int
    rows: int
    label_width: float
    label_height: float
    left: float
    top: float
    pitch_x: float
    pitch_y: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def position(self, slot: int) -> tuple[float, float]:
        """Top-left (x, y) in mm of label position `slot` (0-based, across then down)."""
        row, column = divmod(slot, self.columns)
        return self.left + column * self.pitch_x, self.top + row * self.pitch_y

    def to_dict(self) -> dict[str, Any]:
        """The layout as the API writes it (a custom grid's spelling, in mm)."""
        return {
            "name": self.name,
            "page": {"width_mm": round(self.page[0], 3), "height_mm": round(self.page[1], 3)},
            "columns": self.columns,
            "rows": self.rows,
            "label_width_mm": round(self.label_width, 3),
            "label_height_mm": round(self.label_height, 3),
            "left_mm": round(self.left, 3),
            "top_mm": round(self.top, 3),
            "gap_x_mm": round(self.pitch_x - self.label_width, 3),
            "gap_y_mm": round(self.pitch_y - self.label_height, 3),
        }


def _inches(*values: float) -> tuple[float, ...]:
    return tuple(v * MM_PER_INCH for v in values)


def _sheet(name: str, page: tuple[float, float], grid: tuple[int, int], *mm: float) -> Sheet:
    width, height, left, top, pitch_x, pitch_y = mm
    return Sheet(name, page, grid[0], grid[1], width, height, left, top, pitch_x, pitch_y)


# One row per template: name, page, (columns, rows), then label width, label height,
# left margin, top margin, horizontal pitch, vertical pitch (mm; inches converted).
# fmt: off
TEMPLATES: tuple[Sheet, ...] = (
    _sheet("Avery L7160", A4, (3, 7), 63.5, 38.1, 7.25, 15.15, 66.0, 38.1),
    _sheet("Avery L7163", A4, (2, 7), 99.1, 38.1, 4.65, 15.15, 101.6, 38.1),
    _sheet("Avery L7651", A4, (5, 13), 38.1, 21.2, 4.75, 10.7, 40.6, 21.2),
    _sheet("Avery 5160", LETTER, (3, 10), *_inches(2.625, 1, 0.1875, 0.5, 2.75, 1)),
    _sheet("Avery 5163", LETTER, (2, 5), *_inches(4, 2, 0.15625, 0.5, 4.1875, 2)),
    _sheet("Avery 22805", LETTER, (4, 6), *_inches(1.5, 1.5, 0.78125, 0.5, 1.8125, 1.7)),
)
# fmt: on


def _key(name: str) -> str:
    # "L7160", "avery-l7160" and "Avery L7160" all name one template.
    return re.sub(r"[\s_\-]", "", name).lower().removeprefix("avery")


_BY_KEY = {_key(sheet.name): sheet for sheet in TEMPLATES}


def template_names() -> list[str]:
    return [sheet.name for sheet in TEMPLATES]


def parse_sheet(value: Any) -> Sheet:
    """A template by name, or a custom grid; InvalidParameter naming what is wrong."""
    if isinstance(value, str):
        found = _BY_KEY.get(_key(value))
        if found is None:
            raise InvalidParameter(
                f"unknown sheet {value[:40]!r}; templates: {', '.join(template_names())} "
                "(or a custom grid object)",
                field="sheet",
            )
        return found
    if not isinstance(value, Mapping):
        raise InvalidParameter("sheet must be a template name or a grid object", field="sheet")
    return _custom(value)


_GRID_FIELDS = (
    "page",
    "columns",
    "rows",
    "label_width_mm",
    "label_height_mm",
    "left_mm",
    "top_mm",
    "gap_x_mm",
    "gap_y_mm",
)


def _custom(grid: Mapping[str, Any]) -> Sheet:
    unknown = sorted(set(grid) - set(_GRID_FIELDS))
    if unknown:
        raise InvalidParameter(
            f"unknown sheet field {unknown[0]!r}; a grid has {', '.join(_GRID_FIELDS)}",
            field=f"sheet.{unknown[0]}",
        )
    page = _page(grid.get("page", "A4"))
    columns = _count(grid, "columns")
    rows = _count(grid, "rows")
    width = _mm(grid, "label_width_mm", MIN_LABEL_MM)
    height = _mm(grid, "label_height_mm", MIN_LABEL_MM)
    left = _mm(grid, "left_mm", 0.0, default=0.0)
    top = _mm(grid, "top_mm", 0.0, default=0.0)
    gap_x = _mm(grid, "gap_x_mm", 0.0, default=0.0)
    gap_y = _mm(grid, "gap_y_mm", 0.0, default=0.0)
    sheet = Sheet(
        "custom", page, columns, rows, width, height, left, top, width + gap_x, height + gap_y
    )
    right, bottom = sheet.position(sheet.per_page - 1)
    right, bottom = right + width, bottom + height
    if right > page[0] + 1e-6 or bottom > page[1] + 1e-6:
        raise InvalidParameter(
            f"the grid is {right:.1f} x {bottom:.1f} mm from the page's top-left; the page is "
            f"{page[0]:g} x {page[1]:g} mm: fewer or smaller labels, or smaller margins/gaps",
            invalid_params=[
                InvalidParam("sheet.columns", f"the grid ends at {right:.1f} mm across"),
                InvalidParam("sheet.rows", f"the grid ends at {bottom:.1f} mm down"),
            ],
        )
    return sheet


def _page(value: Any) -> tuple[float, float]:
    if isinstance(value, str) and value.lower() in PAGES:
        return PAGES[value.lower()]
    if isinstance(value, Mapping) and set(value) == {"width_mm", "height_mm"}:
        return (
            _mm(value, "width_mm", MIN_LABEL_MM, field="sheet.page.width_mm"),
            _mm(value, "height_mm", MIN_LABEL_MM, field="sheet.page.height_mm"),
        )
    raise InvalidParameter(
        'sheet.page must be "A4", "Letter" or {"width_mm", "height_mm"}', field="sheet.page"
    )


def _count(grid: Mapping[str, Any], name: str) -> int:
    value = grid.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GRID:
        raise InvalidParameter(
            f"sheet.{name} must be a whole number from 1 to {MAX_GRID}", field=f"sheet.{name}"
        )
    return value


def _mm(
    data: Mapping[str, Any],
    name: str,
    least: float,
    *,
    default: float | None = None,
    field: str | None = None,
) -> float:
    value = data.get(name, default)
    field = field or f"sheet.{name}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameter(f"{field} must be a number of mm", field=field)
    if not least <= value <= MAX_PAGE_MM:
        raise InvalidParameter(
            f"{field} must be from {least:g} to {MAX_PAGE_MM:g} mm; got {value}", field=field
        )
    return float(value)
