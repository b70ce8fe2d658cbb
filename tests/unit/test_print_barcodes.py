"""format=pdf|eps: the exact physical size, whole printer dots per module, every option,
and a read-back at the print DPI; PDFs rasterised with PDFium and read as printed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from barcode_service.barcode_request import parse_request, response_mode
from barcode_service.errors import InvalidParameter
from barcode_service.verify import render_verified
from tests.support.printed import dark_box, eps_bounding_box, pages, read

CODE128 = {"type": "code128", "content": "LABEL-0042", "unit": "mm", "width": 40, "height": 20}


def made(params: dict[str, Any]) -> Any:
    return render_verified(parse_request(params))


def test_a_40_x_20_mm_code_128_pdf_measures_40_x_20_mm_and_scans_at_300_dpi() -> None:
    render = made({**CODE128, "format": "pdf", "show_text": True})
    assert render.body.startswith(b"%PDF-")
    assert render.facts.verified is True
    (page,) = pages(render.body, 300)
    assert page.width_mm == pytest.approx(40, abs=0.1)
    assert page.height_mm == pytest.approx(20, abs=0.1)
    assert read(page.image, "Code128") == ["LABEL-0042"]
    # 154 modules (quiet zones included) of 3 dots at 300 dpi: 39.12 mm of symbol,
    # centred on whole dots. The marks run from the first bar to the last.
    k = render.facts.module_px
    assert k == 3
    left, _, right, _ = dark_box(page.image) or (0, 0, 0, 0)
    assert page.mm(right - left) == pytest.approx((154 - 20) * k * 25.4 / 300, abs=0.1)
    assert page.mm(left) == pytest.approx((5 + 10 * k) * 25.4 / 300, abs=0.1)


def test_a_40_x_20_mm_code_128_eps_measures_40_x_20_mm() -> None:
    render = made({**CODE128, "format": "eps", "show_text": True})
    assert render.body.startswith(b"%!PS-Adobe-3.0 EPSF-3.0")
    x0, y0, x1, y1 = eps_bounding_box(render.body)
    assert (x0, y0) == (0, 0)
    assert x1 / 72 * 25.4 == pytest.approx(40, abs=0.1)
    assert y1 / 72 * 25.4 == pytest.approx(20, abs=0.1)
    assert "%%BoundingBox: 0 0 114 57" in render.body.decode("ascii")  # whole points, round up
    assert render.facts.verified is True


def test_eps_bars_are_the_pdfs_bars() -> None:
    # The EPS draws the same rectangles through the same placement as the PDF.
    eps = made({**CODE128, "format": "eps"}).body.decode("ascii")
    matrix = re.search(r"^\[(.+)\] concat$", eps, re.MULTILINE)
    assert matrix is not None
    a, b, c, d, e, f = (float(v) for v in matrix.group(1).split())
    bars = [
        [float(v) for v in line.split()[:4]] for line in eps.splitlines() if line.endswith(" R")
    ]
    bars = bars[1:]  # the first is the white canvas
    left = min(a * x + e for x, *_ in bars)
    right = max(a * (x + w) + e for x, _, w, _ in bars)
    (page,) = pages(made({**CODE128, "format": "pdf"}).body, 300)
    pdf_left, _, pdf_right, _ = dark_box(page.image) or (0, 0, 0, 0)
    assert left / 72 * 25.4 == pytest.approx(page.mm(pdf_left), abs=0.1)
    assert right / 72 * 25.4 == pytest.approx(page.mm(pdf_right), abs=0.1)
    assert (b, c, d) == (0, 0, pytest.approx(-72 / 300))
    assert f == pytest.approx(20 / 25.4 * 72 - 0 * d, abs=0.6)


@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_modules_are_whole_printer_dots_at_the_dpi(dpi: int) -> None:
    render = made({**CODE128, "format": "pdf", "dpi": dpi})
    k = render.facts.module_px
    assert k == int(k) >= 1
    # Rasterised at 4x the printer's resolution, every bar and space is a whole number
    # of printer dots wide (within a quarter dot), a multiple of k: no bar lands on
    # half a dot, so the printer prints bars of one width alike.
    (page,) = pages(render.body, 4 * dpi)
    middle = page.image.height // 2
    row = list(page.image.crop((0, middle, page.image.width, middle + 1)).get_flattened_data())
    widths = [width / 4 for width in _runs(row)]
    assert min(widths) == pytest.approx(k, abs=0.25)
    assert all(abs(w - k * round(w / k)) <= 0.25 for w in widths), widths


def _runs(row: list[int]) -> list[int]:
    """Widths in px of the dark runs of a row."""
    runs, current = [], 0
    for value in row:
        if value < 128:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    return runs


def test_every_option_is_drawn() -> None:
    params = {"type": "qrcode", "content": "https://example.com/p/42", "unit": "in", "width": 1}
    render = made({**params, "height": 1, "format": "pdf", "fg": "1A237E", "bg": "FFF8E1"})
    (page,) = pages(render.body, 300)
    assert page.width_mm == pytest.approx(25.4, abs=0.1)
    assert read(page.image, "QRCode") == ["https://example.com/p/42"]
    assert page.image.getpixel((0, 0)) > 200  # the light ground, painted
    turned = made({**CODE128, "width": 20, "height": 40, "format": "pdf", "rotate": 90})
    (page,) = pages(turned.body, 300)
    assert (page.width_mm, page.height_mm) == (
        pytest.approx(20, abs=0.1),
        pytest.approx(40, abs=0.1),
    )
    assert read(page.image.rotate(90, expand=True), "Code128") == ["LABEL-0042"]
    bare = made({**CODE128, "format": "pdf", "quiet_zone": False, "bg": "transparent"})
    assert b"/Type /Page" in bare.body
    assert bare.facts.verified is True


def test_hexagons_and_rings_are_drawn_too() -> None:
    # MaxiCode: zint's vector model has hexagons and a bullseye of rings, no rectangles.
    params = {"type": "maxicode", "content": "MaxiCode 4", "unit": "mm", "width": 30}
    render = made({**params, "height": 30, "format": "pdf"})
    (page,) = pages(render.body, 300)
    assert read(page.image, "MaxiCode") == ["MaxiCode 4"]
    eps = made({**params, "height": 30, "format": "eps"}).body.decode("ascii")
    assert eps.count(" closepath fill") > 300  # the hexagons
    assert eps.count(" arc closepath ") == 3  # the rings


def test_transparent_eps_paints_no_ground_and_colours_are_exact() -> None:
    eps = made({**CODE128, "format": "eps", "bg": "transparent", "fg": "1A237E"}).body.decode()
    assert "1 1 1 setrgbcolor" not in eps
    assert "0.102 0.1373 0.4941 setrgbcolor" in eps


def test_pixels_are_refused_for_vector_formats() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_request(
            {"type": "code128", "content": "A", "width": 300, "height": 100, "format": "eps"}
        )
    assert [p.name for p in caught.value.invalid_params] == ["unit"]


def test_a_size_too_small_names_the_size_that_fits() -> None:
    with pytest.raises(InvalidParameter) as caught:
        made({**CODE128, "width": 10, "format": "pdf", "show_text": True})
    assert "needs at least 26.1 x" in caught.value.detail
    assert {p.name for p in caught.value.invalid_params} == {"width", "height"}


def test_modules_below_the_print_minimum_warn() -> None:
    render = made(
        {
            "type": "ean13",
            "content": "6901234567892",
            "unit": "mm",
            "width": 30,
            "height": 20,
            "format": "pdf",
            "dpi": 203,
        }
    )
    assert render.facts.warnings == (
        "modules are 0.250 mm (2 dots at 203 dpi), below the 0.264 mm and 2 dots a printed "
        "EAN-13 should have; 42.4 x 5.6 mm gives 3 dots per module",
    )


def test_the_same_request_writes_the_same_bytes() -> None:
    assert made({**CODE128, "format": "pdf"}).body == made({**CODE128, "format": "pdf"}).body


@pytest.mark.parametrize(
    ("accept", "fmt"), [("application/pdf", "pdf"), ("application/postscript", "eps")]
)
def test_accept_asks_for_the_file(accept: str, fmt: str) -> None:
    from barcode_service.barcode_request import accepted_format

    assert response_mode({}, accept) == "image"
    assert parse_request(accepted_format(CODE128, accept)).format == fmt


def test_ultracode_keeps_its_colours_in_pdf_and_eps() -> None:
    # Ultracode's tiles carry zint's colour numbers: read from the model's objects.
    params = {"type": "ultracode", "content": "Ultracode", "unit": "mm", "width": 30}
    eps = made({**params, "height": 20, "format": "eps"}).body.decode("ascii")
    assert "gsave 0 1 1 setrgbcolor" in eps  # cyan
    pdf = made({**params, "height": 20, "format": "pdf"})
    assert pdf.facts.verified is None  # no decoder here reads Ultracode
    assert pdf.body.startswith(b"%PDF-")


def test_a_print_that_does_not_read_back_is_a_422_naming_a_bigger_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from barcode_service import printed
    from barcode_service.errors import Unscannable

    monkeypatch.setattr(printed, "drawing_decodes", lambda *_: False)
    with pytest.raises(Unscannable) as caught:
        made({**CODE128, "format": "pdf"})
    assert "(3 dots per module at 300 dpi) does not decode back; try 52.2 x" in caught.value.detail
    assert {p.name for p in caught.value.invalid_params} == {"width", "height"}


def test_text_outside_ascii_is_escaped() -> None:
    from barcode_service.pdf import _string, text_width

    assert _string("a(b)\\c") == "(a\\(b\\)\\\\c)"
    assert _string("Café €") == "(Caf\\351 \\200)"
    assert text_width("€", 10) == pytest.approx(5.56)


@pytest.mark.parametrize(
    ("name", "content", "show_text"),
    [
        ("gs1_datamatrix", "(01)09506000134352(17)271231(10)AB1", False),
        ("ean13", "6901234567892", True),
        ("code128", "LABEL-0042", False),
    ],
)
def test_a_fitted_symbol_is_the_bitmap_a_fresh_encode_at_its_size_draws(
    name: str, content: str, show_text: bool
) -> None:
    # fit() encodes once at the least size and then scales (and grows 1D bars): zint draws
    # at the scale and height set when it draws, so the dots are a fresh encode's.
    from barcode_service.symbologies import find_symbology
    from barcode_service.vector import SymbolSpec, fit

    spec = SymbolSpec(find_symbology(name), content, show_text)
    fitted = fit(spec, (600, 300), least_k=2)
    bars = _bar_modules(spec, fitted) if spec.symbology.stretch else None
    fresh = spec.at(fitted.dots_per_module, bars)
    fresh.buffer()
    assert bytes(fresh.bitmap) == fitted.raster.data


def _bar_modules(spec: Any, fitted: Any) -> float:
    """The bar height (modules) fit() chose: the symbol's height less its text, per k."""
    k = fitted.dots_per_module
    bare = spec.at(k, 10.0)
    bare.buffer_vector()
    return 10.0 + (fitted.height - bare.vector.height) / k
