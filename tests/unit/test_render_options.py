"""Render options in pixels: unit/dpi (pHYs read back), colours and alpha, rotation,
quiet zones, SVG with the same options, and show_text that does not fit."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from barcode_service.barcode_request import parse_request
from barcode_service.errors import InvalidParameter
from barcode_service.render import (
    PLAIN,
    Style,
    draw,
    minimum_size,
)
from barcode_service.svg import render_svg, render_svg_drawing
from barcode_service.symbologies import find_symbology
from barcode_service.verify import render_verified

EAN = {"type": "ean13", "content": "6901234567892", "width": 300, "height": 150}
QR = {"type": "qrcode", "content": "https://example.com/p/42", "width": 200, "height": 200}


def png(params: dict[str, object]) -> Image.Image:
    made = render_verified(parse_request(params))
    assert made.facts.verified is True
    return Image.open(io.BytesIO(made.body))


def test_label_40_x_20_mm_at_300_dpi_has_exact_pixels_and_dpi_and_scans() -> None:
    request = parse_request(
        {"type": "code128", "content": "LABEL-0042", "unit": "mm", "width": 40, "height": 20}
    )
    assert (request.width, request.height, request.dpi) == (472, 236, 300)
    image = png(
        {
            "type": "code128",
            "content": "LABEL-0042",
            "unit": "mm",
            "width": "40",
            "height": "20",
            "show_text": True,
        }
    )
    assert image.size == (472, 236)
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.Code128)
    assert found[0].text == "LABEL-0042"


def test_inches_and_dpi_in_pixel_mode() -> None:
    image = png({**EAN, "unit": "in", "width": "2", "height": "1", "dpi": "600"})
    assert image.size == (1200, 600)
    assert image.info["dpi"] == pytest.approx((600, 600), abs=0.01)
    assert png({**EAN, "dpi": 203}).info["dpi"] == pytest.approx((203, 203), abs=0.01)
    assert "dpi" not in png(EAN).info  # px without dpi: no pHYs


def test_colours_are_exact_in_the_pixels() -> None:
    image = png({**QR, "fg": "1A237E", "bg": "#FFF8E1"}).convert("RGB")
    colours = {colour for _, colour in image.getcolors() or []}
    assert colours == {(0x1A, 0x23, 0x7E), (0xFF, 0xF8, 0xE1)}


def test_transparent_background_has_alpha_zero_and_opaque_bars() -> None:
    image = png({**QR, "fg": "000000", "bg": "transparent"}).convert("RGBA")
    assert image.getpixel((0, 0)) == (255, 255, 255, 0)
    colours = {colour for _, colour in image.getcolors() or []}
    assert colours == {(255, 255, 255, 0), (0, 0, 0, 255)}  # clear ground, opaque bars


def test_default_render_stays_1_bit() -> None:
    assert png(EAN).mode == "1"


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_rotation_turns_the_image_and_it_still_scans(turn: int) -> None:
    width, height = (150, 300) if turn in (90, 270) else (300, 150)
    image = png({**EAN, "width": width, "height": height, "rotate": turn})
    assert image.size == (width, height)
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.EAN13)
    assert found[0].text == "6901234567892"
    if turn == 90:  # clockwise: bars run across the image, the start (left) is at the top
        upright = png(EAN)
        assert upright.transpose(Image.Transpose.ROTATE_270).tobytes() == image.tobytes()


def test_quiet_zone_off_lets_bars_use_the_canvas() -> None:
    qr = find_symbology("qrcode")
    with_zone = minimum_size(qr, "hello", False)
    without = minimum_size(qr, "hello", False, style=Style(quiet_zone=False))
    assert without[0] < with_zone[0]
    image = png({**QR, "content": "hello", "width": 42, "height": 42, "quiet_zone": "false"})
    assert image.getbbox() is not None
    inverted = Image.eval(image.convert("L"), lambda v: 255 - v)
    assert inverted.getbbox() == (0, 0, 42, 42)  # bars reach the edges


def test_show_text_that_does_not_fit_names_the_size_it_needs() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_request({**EAN, "width": 150, "show_text": True})
    detail = caught.value.detail
    assert re.search(r"needs at least 226 x \d+ px", detail)
    assert "leave show_text off" in detail
    assert caught.value.invalid_params[0].name == "width"
    # The same size without text is fine: the text is never silently dropped.
    assert parse_request({**EAN, "width": 150}).width == 150


def test_svg_gets_the_same_options() -> None:
    svg = render_svg_drawing(
        find_symbology("ean13"),
        "6901234567892",
        150,
        300,
        style=Style(fg="1A237E", bg=None, rotate=90, quiet_zone=False),
        physical=("20mm", "40mm"),
    ).body.decode()
    root = re.search(r"<svg [^>]*>", svg)
    assert root is not None
    assert 'width="20mm" height="40mm"' in root.group(0)
    assert 'fill="#1A237E"' in svg
    assert "<rect" not in svg  # zint draws the background as a rect: none when transparent
    view = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', root.group(0))
    assert view is not None
    assert float(view.group(1)) < float(view.group(2))  # turned: taller than wide
    opaque = render_svg(find_symbology("ean13"), "6901234567892", 300, 150).decode()
    assert "#FFFFFF" in opaque.upper()


def test_svg_request_in_mm_records_the_unit_and_is_verified() -> None:
    request = parse_request({**EAN, "format": "svg", "unit": "mm", "width": 40, "height": 20})
    assert request.physical == ("40mm", "20mm")
    made = render_verified(request)
    assert made.facts.verified is True
    assert b'width="40mm" height="20mm"' in made.body


def test_drawing_keeps_the_upright_image_for_reading_back() -> None:
    drawing = draw(find_symbology("maxicode"), "MaxiCode 4", 200, 200, style=Style(rotate=90))
    assert drawing.upright.size == drawing.image.size  # square
    assert drawing.module_px >= 1
    assert PLAIN.plain
    assert not Style(bg=None).plain
