"""Local rendering: every catalog type renders at an exact size and reads back with zxing-cpp."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from barcode_service.errors import InvalidParameter
from barcode_service.png import render_png
from barcode_service.render import (
    MIN_BAR_MODULES,
    check_size,
    minimum_size,
    render_image,
)
from barcode_service.svg import render_svg
from barcode_service.symbologies import (
    CATALOG,
    Symbology,
    find_symbology,
    upce_to_upca,
    validate_content,
)

# What zxing-cpp reads for each type it supports: (format, expected text, exact?).
# Not exact = the reader also returns a check character zint appended (startswith).
# Types missing here (postal, MSI, 2 of 5 variants, Code 11, DotCode, Han Xin, ...)
# are not read by zxing-cpp 3.1.1; they are still rendered and size-checked.
F = zxingcpp.BarcodeFormat
READABLE: dict[str, tuple[zxingcpp.BarcodeFormat, str, bool]] = {}


def _expect(
    name: str, fmt: zxingcpp.BarcodeFormat, text: str | None = None, exact: bool = True
) -> None:
    content = validate_content(find_symbology(name), find_symbology(name).example)
    READABLE[name] = (fmt, content if text is None else text, exact)


for _name in ("ean13", "isbn"):
    _expect(_name, F.EAN13)
_expect("ean8", F.EAN8)
_expect("upca", F.EAN13, "0012345678905")
_expect("upce", F.UPCE, "0" + upce_to_upca("0123456") + "5")
_expect("itf14", F.ITF)
_expect("ean14", F.Code128, "(01)15400141288763")
_expect("sscc18", F.Code128, "(00)106141411234567897")
_expect("gs1_128", F.Code128)
_expect("databar", F.DataBarOmni, "(01)09501101530003")
_expect("databar_limited", F.DataBarLtd, "(01)09501101530003")
_expect("databar_expanded", F.DataBarExp)
_expect("databar_stacked", F.DataBarStk, "(01)09501101530003")
_expect("databar_stacked_omni", F.DataBarStk, "(01)09501101530003")
_expect("databar_expanded_stacked", F.DataBarExpStk)
for _name in ("code128", "code128a", "code128b", "code128c"):
    _expect(_name, F.Code128)
for _name in ("code39", "logmars", "vin"):
    _expect(_name, F.Code39)
_expect("code39_mod43", F.Code39, exact=False)
_expect("code39_extended", F.Code39Ext)
_expect("code93", F.Code93)
_expect("codabar", F.Codabar)
_expect("interleaved2of5", F.ITF)
for _name in ("interleaved2of5_mod10", "dpleit", "dpident"):
    _expect(_name, F.ITF, exact=False)
_expect("telepen", F.TelepenAlpha)
_expect("telepen_numeric", F.TelepenNumeric)
_expect("code32", F.Code32, "A12345678", exact=False)
_expect("pzn", F.PZN, "-12345678")
for _name, _fmt in (
    ("qrcode", F.QRCode),
    ("microqr", F.MicroQRCode),
    ("rmqr", F.RMQRCode),
    ("datamatrix", F.DataMatrix),
    ("pdf417", F.PDF417),
    ("pdf417_compact", F.PDF417),
    ("micropdf417", F.MicroPDF417),
    ("aztec", F.Aztec),
    ("maxicode", F.MaxiCode),
):
    _expect(_name, _fmt)
_expect("aztec_rune", F.Aztec, "025")
for _name, _fmt in (
    ("hibc_128", F.Code128),
    ("hibc_datamatrix", F.DataMatrix),
    ("hibc_qr", F.QRCode),
    ("hibc_pdf417", F.PDF417),
    ("hibc_aztec", F.Aztec),
):
    _expect(_name, _fmt, "+A123BJC5D6E71", exact=False)


def _comfortable_size(symbology: Symbology, content: str) -> tuple[int, int]:
    w1, h1 = minimum_size(symbology, content, False)
    return max(3 * w1, 200), max(3 * h1, 100) if not symbology.stretch else 150


@pytest.mark.parametrize("symbology", CATALOG, ids=lambda s: s.name)
def test_every_type_renders_exact_1bit_png_and_reads_back(symbology: Symbology) -> None:
    content = validate_content(symbology, symbology.example)
    width, height = _comfortable_size(symbology, content)

    png = render_png(symbology, content, width, height)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (width, height)
    assert image.mode == "1"

    if symbology.name in READABLE:
        fmt, expected, exact = READABLE[symbology.name]
        found = zxingcpp.read_barcodes(image.convert("L"), formats=fmt)
        assert found, f"{symbology.name} did not read back"
        text = found[0].text
        assert text == expected if exact else text.startswith(expected), (symbology.name, text)


def test_catalog_coverage_of_the_reader_table() -> None:
    assert set(READABLE) <= {s.name for s in CATALOG}
    assert len(READABLE) >= 45


def test_modules_are_whole_pixels_and_centred() -> None:
    ean13 = find_symbology("ean13")
    image = render_image(ean13, "6901234567892", 300, 150)
    row = [image.getpixel((x, 60)) for x in range(300)]
    # Runs of equal pixels are multiples of k = 300 // 113 = 2 px per module.
    runs, start = [], 0
    for x in range(1, 301):
        if x == 300 or row[x] != row[start]:
            runs.append((row[start], x - start))
            start = x
    bar_runs = [length for colour, length in runs[1:-1]]
    assert all(length % 2 == 0 for length in bar_runs)
    first_black = row.index(0)
    last_black = 299 - row[::-1].index(0)
    # 95 modules * 2 px centred (quiet zones are symmetric to within the digit text).
    assert last_black - first_black + 1 == 95 * 2
    assert abs(first_black - (299 - last_black)) <= 20


def test_1d_bars_fill_the_requested_height() -> None:
    image = render_image(find_symbology("code128"), "Hello-128", 400, 300)
    column = [image.getpixel((x, y)) for x in range(400) for y in (2, 297)]
    assert 0 in column  # bars reach (nearly) the top and bottom edges


def test_2d_symbols_are_square_and_centred() -> None:
    image = render_image(find_symbology("qrcode"), "hello", 300, 200)
    bbox = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox()
    assert bbox is not None
    left, top, right, bottom = bbox
    assert right - left == bottom - top
    assert abs(left - (300 - right)) <= 1
    assert abs(top - (200 - bottom)) <= 1


def test_text_is_drawn_when_asked() -> None:
    plain = render_image(find_symbology("ean13"), "6901234567892", 300, 150, show_text=False)
    text = render_image(find_symbology("ean13"), "6901234567892", 300, 150, show_text=True)
    assert plain.tobytes() != text.tobytes()
    found = zxingcpp.read_barcodes(text.convert("L"), formats=F.EAN13)
    assert found[0].text == "6901234567892"


def test_large_canvases_and_odd_sizes() -> None:
    image = render_image(find_symbology("datamatrix"), "x", 4000, 33)
    assert image.size == (4000, 33)
    image = render_image(find_symbology("ean13"), "6901234567892", 4000, 40)
    assert image.size == (4000, 40)
    assert zxingcpp.read_barcodes(image.convert("L"), formats=F.EAN13)


def test_too_small_canvas_is_a_400_with_the_needed_size() -> None:
    ean13 = find_symbology("ean13")
    w1, h1 = minimum_size(ean13, "6901234567892", False)
    assert w1 == 113  # 95 modules + 11 + 7 quiet-zone modules at 1 px/module
    assert h1 >= MIN_BAR_MODULES
    assert check_size(ean13, "6901234567892", False, 113, 32) == (w1, h1)
    with pytest.raises(InvalidParameter, match=r"at least 113 x \d+ px"):
        check_size(ean13, "6901234567892", False, 100, 150)
    with pytest.raises(InvalidParameter, match="at least"):
        render_png(find_symbology("qrcode"), "x" * 200, 40, 40)
    with pytest.raises(InvalidParameter, match="at least"):
        render_svg(find_symbology("qrcode"), "x" * 200, 40, 40)


def test_zint_errors_become_400s_naming_the_type() -> None:
    with pytest.raises(InvalidParameter, match=r"^Vehicle Identification Number cannot encode"):
        render_png(find_symbology("vin"), "1M8GDM9A1KP042788", 600, 100)
    with pytest.raises(InvalidParameter, match="Micro QR Code cannot encode"):
        render_png(find_symbology("microqr"), "条码", 100, 100)


def test_non_latin_text_gets_a_utf8_eci() -> None:
    image = render_image(find_symbology("qrcode"), "条码 ok", 200, 200)
    assert zxingcpp.read_barcodes(image.convert("L"))[0].text == "条码 ok"


def test_svg_has_the_requested_size_and_a_viewbox() -> None:
    svg = render_svg(find_symbology("ean13"), "6901234567892", 300, 150, show_text=True).decode()
    root = re.search(r"<svg [^>]*>", svg)
    assert root is not None
    assert 'width="300" height="150"' in root.group(0)
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', root.group(0))
    assert match is not None
    w, h = float(match.group(1)), float(match.group(2))
    assert w == 113
    assert abs(w / h - 2) < 0.05  # bars chosen so the symbol has the canvas' aspect
    assert "<text" in svg

    square = render_svg(find_symbology("qrcode"), "hello", 256, 256).decode()
    assert 'viewBox="0 0 29 29"' in square
