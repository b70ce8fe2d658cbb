"""PDF files of placed symbols and text, written with reportlab.

One `PdfWriter` makes one document: pages of any size, each with symbols drawn from
zint's vector model (`vector.Placement`: whole-dot modules, a quarter turn) and lines
of text in Helvetica, one of the 14 standard PDF fonts every reader has (nothing is
embedded; reportlab carries its metrics, so widths measured here are the widths
printed). The bytes are the same for the same drawing (reportlab's invariant mode:
no dates or random ids), as content-addressed storage needs.

reportlab is imported inside: only print requests load it (~80 ms, 47 modules), and
it ships in the print layer (README "Print").
"""

from __future__ import annotations

import io
import math
from typing import Any

from .render import Style
from .vector import Placement, Text, rgb

FONT = "Helvetica"
_ANCHORS = {"centre": 0.5, "left": 0.0, "right": 1.0}


def text_width(text: str, size_pt: float) -> float:
    """Width in points of `text` in Helvetica at `size_pt`."""
    from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: PLC0415 - print path only

    return float(stringWidth(text, FONT, size_pt))


def drawable(text: str) -> bool:
    """Whether Helvetica (WinAnsi encoding) has every character of `text`."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return text.isprintable()


def fitted_text(text: Text) -> tuple[float, float]:
    """zint's human-readable text in Helvetica: (left end, font size), no wider than
    zint made room for (its own font is narrower), aligned as zint aligned it."""
    size = text.size
    width = text_width(text.text, size)
    if width > text.width > 0:
        size *= text.width / width
        width = text.width
    return text.x - _ANCHORS[text.align] * width, size


class PdfWriter:
    """Pages of symbols and text; `finish` returns the PDF bytes."""

    def __init__(self, title: str) -> None:
        from reportlab import rl_config  # noqa: PLC0415 - print path only
        from reportlab.pdfgen.canvas import Canvas  # noqa: PLC0415

        # Compressed streams as they are: ASCII85 on top makes them 25% larger and took
        # a fifth of a 1,000-label sheet's time (reportlab encodes it in Python).
        rl_config.useA85 = 0
        self._out = io.BytesIO()
        self._canvas: Any = Canvas(self._out, invariant=1, pageCompression=1)
        self._canvas.setTitle(title)
        self._canvas.setCreator("barcode-backend")
        self._height = 0.0
        self._open = False

    def page(self, width_pt: float, height_pt: float) -> None:
        """Start a page of this size (the previous one is finished)."""
        if self._open:
            self._canvas.showPage()
        self._canvas.setPageSize((width_pt, height_pt))
        self._height = height_pt
        self._open = True

    def fill(self, colour: str, x: float, y: float, width: float, height: float) -> None:
        """A filled rectangle in points, (x, y) its top-left from the page's top-left."""
        c = self._canvas
        c.setFillColorRGB(*rgb(colour))
        c.rect(x, self._height - y - height, width, height, stroke=0, fill=1)

    def symbol(self, placement: Placement, style: Style) -> None:
        """A fitted symbol where `placement` puts it, in the style's foreground colour
        (its background is what the caller painted, or nothing)."""
        c = self._canvas
        c.saveState()
        c.transform(*placement.matrix(self._height))
        c.setFillColorRGB(*rgb(style.fg))
        c.setStrokeColorRGB(*rgb(style.fg))
        self._shapes(placement)
        c.restoreState()

    def _shapes(self, placement: Placement) -> None:
        c, symbol = self._canvas, placement.symbol
        plain, coloured = symbol.rect_numbers
        # The bars as one path, written as PDF operators (reportlab's own path objects
        # format every number in Python: most of a 1,000-label sheet's time).
        if plain:
            c.addLiteral(" re\n".join(plain) + " re f")
        tiles = (r for r in symbol.rects if r.colour is not None)  # Ultracode's colours
        for rect, numbers in zip(tiles, coloured, strict=True):
            c.setFillColorRGB(*rgb(rect.colour or "000000"))
            c.addLiteral(f"{numbers} re f")
        if symbol.hexagons or any(not circle.ring for circle in symbol.circles):
            dots = c.beginPath()
            for h in symbol.hexagons:
                _hexagon(dots, h.x, h.y, h.diameter / 2)
            for circle in symbol.circles:
                if not circle.ring:
                    dots.circle(circle.x, circle.y, circle.diameter / 2)
            c.drawPath(dots, stroke=0, fill=1)
        for circle in symbol.circles:
            if circle.ring:  # MaxiCode's bullseye
                c.setLineWidth(circle.ring)
                c.circle(circle.x, circle.y, circle.diameter / 2, stroke=1, fill=0)
        for text in symbol.texts:
            self._symbol_text(text)

    def _symbol_text(self, text: Text) -> None:
        c = self._canvas
        left, size = fitted_text(text)
        c.saveState()
        c.translate(left, text.y)
        c.scale(1, -1)  # the symbol's dots run y down; text must stay upright within it
        c.setFont(FONT, size)
        c.drawString(0, 0, text.text)
        c.restoreState()

    def text(
        self, text: str, x: float, baseline: float, size_pt: float, colour: str = "000000"
    ) -> None:
        """A line of text, its left end at `x` and baseline at `baseline` points from
        the page's top-left."""
        c = self._canvas
        c.setFillColorRGB(*rgb(colour))
        c.setFont(FONT, size_pt)
        c.drawString(x, self._height - baseline, text)

    def finish(self) -> bytes:
        """The PDF bytes (the writer is spent)."""
        if not self._open:
            self.page(1, 1)
        self._canvas.showPage()
        self._canvas.save()
        return self._out.getvalue()


def _hexagon(path: Any, x: float, y: float, radius: float) -> None:
    """A hexagon with a vertex on top, as zint draws MaxiCode's."""
    for i in range(6):
        angle = math.radians(90 + 60 * i)
        point = (x + radius * math.cos(angle), y - radius * math.sin(angle))
        if i == 0:
            path.moveTo(*point)
        else:
            path.lineTo(*point)
    path.close()
