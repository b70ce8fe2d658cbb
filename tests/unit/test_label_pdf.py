"""Label sheets looked at as a printer would: every page rasterised at 300 dpi, every
label read where the template puts it, barcodes measured in mm; and the refusals that
name the label that cannot be printed."""

from __future__ import annotations

from typing import Any

import pytest

from barcode_service import label_pdf
from barcode_service.errors import InvalidParameter, Unscannable
from barcode_service.gtin import check_digit
from barcode_service.label_pdf import PADDING_MM, render_labels
from barcode_service.labels import parse_labels
from barcode_service.vector import SymbolSpec
from tests.support.printed import Page, dark_box, pages, read

LOTS = [f"(01)09506000134352(17)271231(10)LOT{i:02d}" for i in range(21)]


def gs1_labels(count: int = 21) -> list[dict[str, Any]]:
    lines = ["Lot LOT{:02d}", "Best before 31.12.2027"]
    return [
        {"type": "gs1_datamatrix", "content": LOTS[i % 21], "lines": [lines[0].format(i), lines[1]]}
        for i in range(count)
    ]


def ean(i: int) -> str:
    body = f"590123{i:06d}"
    return body + str(check_digit(body))


def label_crop(page: Page, sheet: Any, slot: int, shift: tuple[float, float] = (0, 0)) -> Any:
    x, y = sheet.position(slot)
    return page.crop_mm(x + shift[0], y + shift[1], sheet.label_width, sheet.label_height)


def test_a_21_up_l7160_sheet_of_gs1_datamatrix_reads_label_by_label_where_the_template_says() -> (
    None
):
    request = parse_labels({"sheet": "L7160", "labels": gs1_labels()})
    made = render_labels(request)
    assert (made.pages, made.labels) == (1, 21)
    (page,) = pages(made.body, 300)
    assert page.width_mm == pytest.approx(210, abs=0.1)
    assert page.height_mm == pytest.approx(297, abs=0.1)
    sheet = request.sheet
    spec = SymbolSpec(request.labels[0].symbology, request.labels[0].content)
    modules, _ = spec.modules()  # 22 x 22 with its one-module quiet zone
    for slot in range(21):
        crop = label_crop(page, sheet, slot)
        # Read from the label's own cell only: the symbol sits where the template says.
        assert read(crop, "DataMatrix") == [LOTS[slot]], slot
        left, top, right, bottom = dark_box(crop) or (0, 0, 0, 0)
        # Everything printed stays inside the label, clear of its padding.
        assert page.mm(left) >= PADDING_MM - 0.1
        assert page.mm(top) >= PADDING_MM - 0.1
        assert page.mm(right) <= sheet.label_width - PADDING_MM + 0.1
        assert page.mm(bottom) <= sheet.label_height - PADDING_MM + 0.1
    # The symbol: the largest whole number of 300 dpi dots per module for which its
    # 22 modules (quiet zone included) fit the room above the two 8 pt lines, up to
    # 1 mm modules (11 dots).
    room_mm = min(63.5 - 2 * PADDING_MM, 38.1 - 2 * PADDING_MM - 1 - 2 * 1.2 * 8 * 25.4 / 72)
    dots = min(int(room_mm / 25.4 * 300 // modules), 11)
    above_text = label_crop(page, sheet, 0).crop(
        (0, 0, round(63.5 / 25.4 * 300), round((PADDING_MM + room_mm) / 25.4 * 300))
    )
    left, top, right, bottom = dark_box(above_text) or (0, 0, 0, 0)
    size_mm = (modules - 2) * dots * 25.4 / 300  # the dark part: 20 modules
    assert page.mm(right - left) == pytest.approx(size_mm, abs=0.1)
    assert page.mm(bottom - top) == pytest.approx(size_mm, abs=0.1)
    # Centred across the label and in its room, within a dot.
    assert page.mm((left + right) / 2) == pytest.approx(63.5 / 2, abs=0.1)
    assert page.mm((top + bottom) / 2) == pytest.approx(PADDING_MM + room_mm / 2, abs=0.1)


def test_text_lines_are_printed_under_the_barcode() -> None:
    request = parse_labels({"sheet": "L7160", "labels": gs1_labels(1)})
    (page,) = pages(render_labels(request).body, 300)
    label = label_crop(page, request.sheet, 0)
    text_mm = 2 * 1.2 * 8 * 25.4 / 72  # two 8 pt lines at the bottom, 1 mm under the symbol
    split = round((38.1 - PADDING_MM - text_mm - 1) / 25.4 * 300)
    text = label.crop((0, split, label.width, label.height))
    _, top, _, bottom = dark_box(text) or (0, 0, 0, 0)
    assert page.mm(bottom - top) == pytest.approx(text_mm, abs=1.5)  # ink where the lines are
    assert read(label.crop((0, 0, label.width, split)), "DataMatrix") == [LOTS[0]]


def test_start_at_offset_and_pages() -> None:
    labels = [{"type": "ean13", "content": ean(i), "show_text": True} for i in range(30)]
    request = parse_labels(
        {"sheet": "L7160", "labels": labels, "start_at": 20, "offset_mm": {"x": 1.5, "y": -1}}
    )
    made = render_labels(request)
    assert made.pages == 3  # 19 used + 30 = 49 positions: two full sheets and one more
    first, second, third = pages(made.body, 300)
    sheet = request.sheet
    assert dark_box(label_crop(first, sheet, 0)) is None  # positions 1..19 are left alone
    assert read(label_crop(first, sheet, 19, (1.5, -1)), "EAN13") == [ean(0)]
    assert read(label_crop(first, sheet, 20, (1.5, -1)), "EAN13") == [ean(1)]
    assert read(label_crop(second, sheet, 0, (1.5, -1)), "EAN13") == [ean(2)]
    assert read(label_crop(third, sheet, 6, (1.5, -1)), "EAN13") == [ean(29)]
    assert dark_box(label_crop(third, sheet, 7, (1.5, -1))) is None
    # The offset moved everything: the same label 1.5 mm right of its unshifted place.
    plain = parse_labels({"sheet": "L7160", "labels": labels[:1]})
    (unshifted,) = pages(render_labels(plain).body, 300)
    moved = parse_labels({"sheet": "L7160", "labels": labels[:1], "offset_mm": {"x": 1.5}})
    (shifted,) = pages(render_labels(moved).body, 300)
    (a, *_), (b, *_) = dark_box(unshifted.image), dark_box(shifted.image)  # type: ignore[misc]
    assert shifted.mm(b - a) == pytest.approx(1.5, abs=0.1)


def test_copies_and_the_sheet_size() -> None:
    request = parse_labels(
        {"sheet": "L7651", "labels": [{"type": "qrcode", "content": "A1", "copies": 70}]}
    )
    made = render_labels(request)
    assert (made.pages, made.labels) == (2, 70)
    _, second = pages(made.body, 300)
    assert read(label_crop(second, request.sheet, 4), "QRCode") == ["A1"]
    assert dark_box(label_crop(second, request.sheet, 5)) is None


def test_a_line_too_long_is_a_400_naming_the_label_and_what_fits() -> None:
    labels = gs1_labels(3)
    labels[2]["lines"] = ["Lot 7", "A line of text far too long to fit on a label 63.5 mm wide"]
    request = parse_labels({"sheet": "L7160", "labels": labels})
    with pytest.raises(InvalidParameter) as caught:
        render_labels(request)
    error = caught.value
    assert [p.name for p in error.invalid_params] == ["labels[2].lines[1]"]
    assert error.detail.startswith("label 2: line 1 is ")
    assert "mm of text: its first " in error.detail
    assert "or all of it at text_size_pt " in error.detail


def test_a_barcode_below_its_least_module_is_a_400_naming_the_label() -> None:
    # EAN-13 needs 0.264 mm modules: 4 dots at 300 dpi, 38.3 mm wide; L7651 is 38.1 mm.
    labels = [{"type": "qrcode", "content": "ok"}, {"type": "ean13", "content": ean(1)}]
    request = parse_labels({"sheet": "L7651", "labels": labels})
    with pytest.raises(InvalidParameter) as caught:
        render_labels(request)
    error = caught.value
    assert [p.name for p in error.invalid_params] == ["labels[1]"]
    assert error.detail.startswith(
        "label 1: EAN-13 needs at least 38.3 x 6.3 mm (4 dots per module"
    )
    assert "the least for EAN-13 at 300 dpi); the label leaves 35.1 x 18.2 mm" in error.detail
    # At 600 dpi 7 dots make the 0.264 mm: it fits.
    at_600 = parse_labels(
        {"sheet": "L7651", "dpi": 600, "labels": [{"type": "ean13", "content": ean(1)}]}
    )
    (page,) = pages(render_labels(at_600).body, 600)
    assert read(label_crop(page, at_600.sheet, 0), "EAN13") == [ean(1)]


def test_too_many_lines_for_the_barcode_names_how_many_fit() -> None:
    label = {"type": "code128", "content": "A1", "lines": ["a", "b", "c", "d"]}
    request = parse_labels({"sheet": "L7651", "text_size_pt": 9, "labels": [label]})
    with pytest.raises(InvalidParameter) as caught:
        render_labels(request)
    assert (
        "leaves 35.1 x 2.0 mm for it: use at most 2 lines of text, a larger label or shorter"
        in caught.value.detail
    )


def test_a_barcode_that_does_not_read_back_is_a_422_naming_the_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(label_pdf, "drawing_decodes", lambda *_: False)
    request = parse_labels({"sheet": "L7160", "labels": gs1_labels(2)})
    with pytest.raises(Unscannable) as caught:
        render_labels(request)
    assert [p.name for p in caught.value.invalid_params] == ["labels[0].content"]


def test_the_same_request_draws_the_same_bytes() -> None:
    request = parse_labels({"sheet": "5163", "labels": gs1_labels(3)})
    assert render_labels(request).body == render_labels(request).body
