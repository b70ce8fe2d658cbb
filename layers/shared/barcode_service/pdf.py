"""PDF files of placed symbols and text, written with reportlab.

One `PdfWriter` makes one document: pages of any size, each with symbols drawn from
zint's vector model (`vector.Placement`: whole-dot modules, a quarter turn) and lines
of text in Helvetica, one of the 14 standard PDF fonts every reader has (nothing is
embedded; reportlab carries its metrics, so widths measured here are the widths
printed). The bytes are the same for the same drawing (reportlab's invariant mode:
no dates or random ids), as content-addressed storage needs.

reportlab writes the file: objects, cross-references, page sizes, the font resource
and compressed streams. What goes on a page is a handful of PDF operators (`q`, `cm`,
`rg`, `re`, `f`, `BT`...`ET`) added as they are (`Canvas.addLiteral`): reportlab's own
drawing calls format every number in Python, which was most of a 1,000-label sheet's
time.

reportlab is imported inside: only print requests load it (~80 ms, 47 modules), and
it ships in the print layer (docs/generate.md, "Why reportlab").
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import Any

from .render import Style
from .vector import Placement, Text, number, rgb

FONT = "Helvetica"
_ANCHORS = {"centre": 0.5, "left": 0.0, "right": 1.0}
_ESCAPES = {ord("("): "\\(", ord(")"): "\\)", ord("\\"): "\\\\"}


@lru_cache(maxsize=1)
def _widths() -> tuple[int, ...]:
    """Helvetica's advance widths per WinAnsi byte, in 1/1000 em (reportlab's metrics)."""
    from reportlab.pdfbase.pdfmetrics import getFont  # noqa: PLC0415 - print path only

    return tuple(getFont(FONT).widths)


def text_width(text: str, size_pt: float) -> float:
    """Width in points of `text` in Helvetica at `size_pt` (WinAnsi characters)."""
    widths = _widths()
    return sum(widths[byte] for byte in text.encode("cp1252", "replace")) * size_pt / 1000


def drawable(text: str) -> bool:
    """Whether Helvetica (WinAnsi encoding) has every character of `text`."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return text.isprintable()


def _string(text: str) -> str:
    """A PDF string literal of WinAnsi text (octal escapes past ASCII)."""
    ascii_text = text.encode("cp1252", "replace").decode("latin-1")
    if ascii_text.isascii():
        return "(" + ascii_text.translate(_ESCAPES) + ")"
    escaped = (f"\\{ord(c):03o}" if ord(c) > 126 else c.translate(_ESCAPES) for c in ascii_text)
    return "(" + "".join(escaped) + ")"


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
        self._font = "/F1"
        self._height = 0.0
        self._open = False

    def page(self, width_pt: float, height_pt: float) -> None:
        """Start a page of this size (the previous one is finished)."""
        c = self._canvas
        if self._open:
            c.showPage()
        c.setPageSize((width_pt, height_pt))
        # Registers the font with the document (and names it): text is written below.
        c.setFont(FONT, 8)
        self._font = c._doc.getInternalFontName(FONT)
        self._height = height_pt
        self._open = True

    def fill(self, colour: str, x: float, y: float, width: float, height: float) -> None:
        """A filled rectangle in points, (x, y) its top-left from the page's top-left."""
        r, g, b = (number(v) for v in rgb(colour))
        bottom = self._height - y - height
        self._canvas.addLiteral(
            f"{r} {g} {b} rg {number(x)} {number(bottom)} {number(width)} {number(height)} re f"
        )

    def symbol(self, placement: Placement, style: Style) -> None:
        """A fitted symbol where `placement` puts it, in the style's foreground colour
        (its background is what the caller painted, or nothing)."""
        symbol = placement.symbol
        r, g, b = (number(v) for v in rgb(style.fg))
        matrix = " ".join(number(v) for v in placement.matrix(self._height))
        ops = [f"q {matrix} cm {r} {g} {b} rg {r} {g} {b} RG"]
        if symbol.bars:
            ops.append(" re\n".join(symbol.bars) + " re f")
        for colour, rect in symbol.tiles:  # Ultracode's colours
            tr, tg, tb = (number(v) for v in rgb(colour))
            ops.append(f"{tr} {tg} {tb} rg {rect} re f {r} {g} {b} rg")
        dots = [_hexagon(h.x, h.y, h.diameter / 2) for h in symbol.hexagons]
        dots += [_disc(c.x, c.y, c.diameter / 2) for c in symbol.circles if not c.ring]
        if dots:
            ops.append(" ".join(dots) + " f")
        for circle in symbol.circles:
            if circle.ring:  # MaxiCode's bullseye
                ops.append(
                    f"{number(circle.ring)} w {_disc(circle.x, circle.y, circle.diameter / 2)} S"
                )
        for text in symbol.texts:
            left, size = fitted_text(text)
            # The symbol's dots run y down: the text matrix turns the glyphs upright.
            ops.append(
                f"BT {self._font} {number(size)} Tf 1 0 0 -1 {number(left)} {number(text.y)} Tm "
                f"{_string(text.text)} Tj ET"
            )
        ops.append("Q")
        self._canvas.addLiteral("\n".join(ops))

    def text(
        self, text: str, x: float, baseline: float, size_pt: float, colour: str = "000000"
    ) -> None:
        """A line of text, its left end at `x` and baseline at `baseline` points from
        the page's top-left."""
        r, g, b = (number(v) for v in rgb(colour))
        y = number(self._height - baseline)
        self._canvas.addLiteral(
            f"{r} {g} {b} rg BT {self._font} {number(size_pt)} Tf 1 0 0 1 {number(x)} {y} Tm "
            f"{_string(text)} Tj ET"
        )

    def finish(self) -> bytes:
        """The PDF bytes (the writer is spent)."""
        if not self._open:
            self.page(1, 1)
        self._canvas.showPage()
        self._canvas.save()
        return self._out.getvalue()


def _hexagon(x: float, y: float, radius: float) -> str:
    """A hexagon path with a vertex on top, as zint draws MaxiCode's."""
    points = []
    for i in range(6):
        angle = math.radians(90 + 60 * i)
        px, py = number(x + radius * math.cos(angle)), number(y - radius * math.sin(angle))
        points.append(f"{px} {py} {'m' if i == 0 else 'l'}")
    return " ".join(points) + " h"


_KAPPA = 0.5523  # Bezier control distance of a quarter circle, per radius


def _disc(x: float, y: float, r: float) -> str:
    """A circle path (four Bezier quarters)."""
    k = _KAPPA * r
    n = number
    return (
        f"{n(x + r)} {n(y)} m "
        f"{n(x + r)} {n(y + k)} {n(x + k)} {n(y + r)} {n(x)} {n(y + r)} c "
        f"{n(x - k)} {n(y + r)} {n(x - r)} {n(y + k)} {n(x - r)} {n(y)} c "
        f"{n(x - r)} {n(y - k)} {n(x - k)} {n(y - r)} {n(x)} {n(y - r)} c "
        f"{n(x + k)} {n(y - r)} {n(x + r)} {n(y - k)} {n(x + r)} {n(y)} c h"
    )
