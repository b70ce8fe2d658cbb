"""The fast render paths are the same pixels and the same verdicts as the plain ones.

`png.png_bytes` writes an upright drawing from the runs of identical rows of zint's
bitmap, and `verify.drawing_decodes` reads zint's bitmap in place (a 1D symbol first
from its middle row). These tests hold them to what they replace: Pillow building and
writing the canvas (`Drawing.image`), and `verify.decodes` reading `Drawing.symbol`.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import replace

import pytest
import zxingcpp
from PIL import Image

from barcode_service.errors import InvalidParameter
from barcode_service.png import _pillow_png, png_bytes
from barcode_service.render import (
    PLAIN,
    Drawing,
    Raster,
    Style,
    draw,
    minimum_size,
)
from barcode_service.symbologies import CATALOG, Symbology, find_symbology, validate_content
from barcode_service.verify import decodes, drawing_decodes

STYLES = (
    PLAIN,
    Style(fg="1A2B3C", bg="F0E0D0"),
    Style(fg="000080", bg=None),
    Style(fg="000000", bg=None),  # the grey levels of plain, in a buffer of its own
    Style(quiet_zone=False),
)


def _example(symbology: Symbology) -> str:
    return validate_content(symbology, symbology.example)


def _size(symbology: Symbology, content: str, show_text: bool = False) -> tuple[int, int]:
    w1, h1 = minimum_size(symbology, content, show_text)
    # Odd sizes on purpose: the symbol sits at uneven margins, rows end mid-byte.
    return max(3 * w1, 201) + 3, max(3 * h1, 97) + 5


def _drawing(symbology: Symbology, style: Style = PLAIN, show_text: bool = False) -> Drawing:
    content = _example(symbology)
    width, height = _size(symbology, content, show_text)
    return draw(symbology, content, width, height, show_text, style=style)


def _pixels(png: bytes) -> tuple[str, tuple[int, int], bytes, object, object]:
    image = Image.open(io.BytesIO(png))
    image.load()
    palette = image.getpalette()[:6] if image.mode == "P" else None  # type: ignore[index]
    rgba = image.convert("RGBA").tobytes()
    return image.mode, image.size, rgba, palette, image.info.get("dpi")


@pytest.mark.parametrize("symbology", CATALOG, ids=lambda s: s.name)
def test_zint_bitmaps_are_black_on_white_only(symbology: Symbology) -> None:
    # What makes one channel the grey image, and 1 bit per pixel lossless.
    for show_text in (False, True):
        try:
            drawing = _drawing(symbology, show_text=show_text)
        except InvalidParameter:  # text that does not fit this size: nothing drawn
            assert show_text
        else:
            assert set(drawing.raster.data) <= {0, 255}, symbology.name


@pytest.mark.parametrize("symbology", CATALOG, ids=lambda s: s.name)
def test_row_runs_rebuild_the_bitmap_exactly(symbology: Symbology) -> None:
    raster = _drawing(symbology).raster
    runs = raster.runs()
    stride = raster.stride
    rebuilt = b"".join(raster.data[f * stride : (f + 1) * stride] * n for f, n in runs)
    assert rebuilt == raster.data
    assert sum(n for _, n in runs) == raster.height
    # Runs are maximal: neighbours differ.
    for (a, _), (b, _) in itertools.pairwise(runs):
        assert raster.grey_rows(a, 1) != raster.grey_rows(b, 1)


@pytest.mark.parametrize(
    "style", STYLES, ids=["plain", "colour", "transparent", "clear", "no-quiet"]
)
@pytest.mark.parametrize("symbology", CATALOG, ids=lambda s: s.name)
def test_png_from_row_runs_is_the_pillow_png(symbology: Symbology, style: Style) -> None:
    drawing = _drawing(symbology, style)
    for dpi in (None, 300):
        fast = png_bytes(drawing, dpi)
        assert _pixels(fast) == _pixels(_pillow_png(drawing.image, dpi)), symbology.name
    image = Image.open(io.BytesIO(png_bytes(drawing)))
    assert image.mode == ("1" if style.plain else "P")
    if style.bg is None:
        assert image.info["transparency"] == 1


def test_png_with_text_and_a_dpi_reads_back_its_dpi() -> None:
    drawing = _drawing(find_symbology("ean13"), show_text=True)
    fast = png_bytes(drawing, 600)
    assert _pixels(fast) == _pixels(_pillow_png(drawing.image, 600))
    dpi = Image.open(io.BytesIO(fast)).info["dpi"]
    assert (round(dpi[0]), round(dpi[1])) == (600, 600)


def test_png_stays_small() -> None:
    for name, content, size in (
        ("code128", "BARCODE-BACKEND-0012345", (300, 150)),
        ("qrcode", "https://example.com/products/6901234567892", (300, 300)),
        ("datamatrix", "6901234567892 LOT 42", (300, 300)),
    ):
        drawing = draw(find_symbology(name), content, *size)
        assert len(png_bytes(drawing)) <= len(_pillow_png(drawing.image, None)) * 1.5


READ_HERE = [s for s in CATALOG if s.read is not None]


@pytest.mark.parametrize("style", STYLES[:4], ids=["plain", "colour", "transparent", "clear"])
@pytest.mark.parametrize("symbology", READ_HERE, ids=lambda s: s.name)
def test_reading_the_bitmap_is_reading_the_symbol_image(symbology: Symbology, style: Style) -> None:
    content = _example(symbology)
    drawing = _drawing(symbology, style)
    assert drawing_decodes(symbology, content, drawing) is decodes(
        symbology, content, drawing.symbol
    )
    assert drawing_decodes(symbology, content, drawing) is True
    # Another content is not read back, on either path.
    other = content[:-1] + ("1" if content[-1] != "1" else "2")
    assert drawing_decodes(symbology, other, drawing) is decodes(symbology, other, drawing.symbol)


def _read_pure(image: object, symbology: Symbology) -> list[str]:
    assert symbology.read is not None
    found = zxingcpp.read_barcodes(
        image,
        formats=getattr(zxingcpp.BarcodeFormat, symbology.read.format),
        try_rotate=False,
        try_downscale=False,
        try_invert=False,
        is_pure=True,
    )
    return [barcode.text for barcode in found]


LINEAR = [s for s in READ_HERE if s.stretch]


def test_linear_types_are_one_row_symbols() -> None:
    # stretch + a reader = 1D bars; the stacked ones (several rows) are not stretched.
    assert len(LINEAR) >= 30
    assert not any("stacked" in s.name for s in LINEAR)


@pytest.mark.parametrize("show_text", [False, True], ids=["bars", "text"])
@pytest.mark.parametrize("symbology", LINEAR, ids=lambda s: s.name)
def test_pure_1d_reading_of_a_symbol_is_reading_its_middle_row(
    symbology: Symbology, show_text: bool
) -> None:
    try:
        drawing = _drawing(symbology, show_text=show_text)
    except InvalidParameter:  # a type whose text does not fit this size
        pytest.skip("no text at this size")
    raster = drawing.raster
    middle = raster.height // 2
    whole = Image.frombytes("L", (raster.width, raster.height), raster.grey_rows(0, raster.height))
    row = Image.frombytes("L", (raster.width, 1), raster.grey_rows(middle, 1))
    assert symbology.read is not None
    if symbology.read.format.startswith("DataBar"):
        # zxing-cpp's DataBar readers pair rows (their decoding state): one row is not
        # enough, and drawing_decodes reads the whole symbol for them.
        assert _read_pure(whole, symbology) != []
        return
    assert _read_pure(row, symbology) == _read_pure(whole, symbology) != []
    # The bar rows are all that middle row: any scan line across the bars reads the same.
    runs = raster.runs()
    bars = next((first, n) for first, n in runs if first <= middle < first + n)
    assert bars[1] >= raster.height // 2 or show_text


def _with_middle_row_blank(drawing: Drawing) -> Drawing:
    raster = drawing.raster
    middle, stride = raster.height // 2, raster.stride
    data = raster.data[: middle * stride] + b"\xff" * stride + raster.data[(middle + 1) * stride :]
    return replace(drawing, raster=Raster(data, raster.width, raster.height))


def test_a_1d_symbol_whose_middle_row_fails_is_judged_on_the_whole_symbol() -> None:
    code128 = find_symbology("code128")
    content = _example(code128)
    broken = _with_middle_row_blank(_drawing(code128))
    # The middle row alone reads nothing, the general reader finds the other rows:
    # the same verdict as reading the whole symbol image.
    assert drawing_decodes(code128, content, broken) is decodes(code128, content, broken.symbol)
    assert drawing_decodes(code128, content, broken) is True


def test_a_symbol_that_does_not_read_is_false_on_both_paths() -> None:
    ean13 = find_symbology("ean13")
    content = _example(ean13)
    drawing = _drawing(ean13)
    raster = drawing.raster
    blank = replace(drawing, raster=Raster(b"\xff" * len(raster.data), raster.width, raster.height))
    assert drawing_decodes(ean13, content, blank) is False
    assert decodes(ean13, content, blank.symbol) is False
