"""The sheet templates against their manufacturer's published dimensions, and custom grids."""

from __future__ import annotations

from typing import Any

import pytest

from barcode_service.errors import InvalidParameter
from barcode_service.sheets import A4, LETTER, TEMPLATES, parse_sheet

INCH = 25.4

# Published template specifications (Avery's product pages, "template specifications"
# / "label dimensions": avery.co.uk for the L-codes in mm, avery.com for the US codes in
# inches): label width x height, columns x rows, top margin, left (side) margin,
# horizontal pitch, vertical pitch.
PUBLISHED = {
    # avery.co.uk L7160: 63.5 x 38.1 mm, 21 per sheet; top 15.15, side 7.25, pitch 66.0 / 38.1
    "L7160": ("A4", 63.5, 38.1, 3, 7, 15.15, 7.25, 66.0, 38.1),
    # avery.co.uk L7163: 99.1 x 38.1 mm, 14 per sheet; top 15.15, side 4.65, pitch 101.6 / 38.1
    "L7163": ("A4", 99.1, 38.1, 2, 7, 15.15, 4.65, 101.6, 38.1),
    # avery.co.uk L7651: 38.1 x 21.2 mm, 65 per sheet; top 10.7, side 4.75, pitch 40.6 / 21.2
    "L7651": ("A4", 38.1, 21.2, 5, 13, 10.7, 4.75, 40.6, 21.2),
    # avery.com 5160: 1" x 2-5/8", 30 per sheet; top 0.5", side 3/16", pitch 2.75" / 1"
    "5160": ("Letter", 2.625 * INCH, 1 * INCH, 3, 10, 0.5 * INCH, 0.1875 * INCH, 2.75 * INCH,
             INCH),
    # avery.com 5163: 2" x 4", 10 per sheet; top 0.5", side 5/32", pitch 4-3/16" / 2"
    "5163": ("Letter", 4 * INCH, 2 * INCH, 2, 5, 0.5 * INCH, 0.15625 * INCH, 4.1875 * INCH,
             2 * INCH),
    # avery.com 22805: 1.5" x 1.5" square, 24 per sheet; top 0.5", side 25/32",
    # pitch 1-13/16" / 1.7"
    "22805": ("Letter", 1.5 * INCH, 1.5 * INCH, 4, 6, 0.5 * INCH, 0.78125 * INCH, 1.8125 * INCH,
              1.7 * INCH),
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_each_template_has_its_published_dimensions(code: str) -> None:
    page, width, height, columns, rows, top, left, pitch_x, pitch_y = PUBLISHED[code]
    sheet = parse_sheet(code)
    assert sheet.name == f"Avery {code}"
    assert sheet.page == {"A4": A4, "Letter": LETTER}[page]
    assert (sheet.columns, sheet.rows) == (columns, rows)
    for ours, published in [
        (sheet.label_width, width),
        (sheet.label_height, height),
        (sheet.top, top),
        (sheet.left, left),
        (sheet.pitch_x, pitch_x),
        (sheet.pitch_y, pitch_y),
    ]:
        assert ours == pytest.approx(published, abs=0.01)
    # The grid is on the page, its side margins equal (as the sheets are die-cut).
    right, bottom = sheet.position(sheet.per_page - 1)
    right_margin = sheet.page[0] - right - sheet.label_width
    assert right_margin == pytest.approx(sheet.left, abs=0.05)
    assert sheet.page[1] - bottom - sheet.label_height >= 0


def test_every_template_is_in_the_table() -> None:
    assert {sheet.name.removeprefix("Avery ") for sheet in TEMPLATES} == set(PUBLISHED)


@pytest.mark.parametrize("name", ["L7160", "l7160", "Avery L7160", "avery-l7160", "AVERY_L7160"])
def test_a_template_has_many_spellings(name: str) -> None:
    assert parse_sheet(name).name == "Avery L7160"


def test_positions_run_across_then_down() -> None:
    sheet = parse_sheet("L7160")
    assert sheet.position(0) == (7.25, 15.15)
    assert sheet.position(1) == pytest.approx((73.25, 15.15))
    assert sheet.position(3) == pytest.approx((7.25, 53.25))


def test_a_custom_grid_in_mm() -> None:
    sheet = parse_sheet(
        {
            "page": {"width_mm": 100, "height_mm": 150},
            "columns": 2,
            "rows": 3,
            "label_width_mm": 45,
            "label_height_mm": 40,
            "left_mm": 4,
            "top_mm": 10,
            "gap_x_mm": 2,
            "gap_y_mm": 5,
        }
    )
    assert (sheet.name, sheet.page, sheet.per_page) == ("custom", (100, 150), 6)
    assert sheet.position(5) == (51, 100)
    assert sheet.to_dict()["gap_y_mm"] == 5


def grid(**changes: Any) -> dict[str, Any]:
    """A one-label 60 x 20 mm grid with some fields changed."""
    return {"columns": 1, "rows": 1, "label_width_mm": 60, "label_height_mm": 20, **changes}


@pytest.mark.parametrize(
    ("grid", "field"),
    [
        (grid(columns=4), "sheet.columns"),
        (grid(columns=0), "sheet.columns"),
        (grid(label_width_mm=1), "sheet.label_width_mm"),
        (grid(page="A3"), "sheet.page"),
        (grid(bleed=1), "sheet.bleed"),
        (grid(rows="2"), "sheet.rows"),
    ],
)
def test_a_grid_that_is_wrong_names_the_field(grid: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_sheet(grid)
    assert field in [p.name for p in caught.value.invalid_params]


def test_an_unknown_template_lists_the_known_ones() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_sheet("L9999")
    assert "Avery L7160" in caught.value.detail
    with pytest.raises(InvalidParameter):
        parse_sheet(42)
