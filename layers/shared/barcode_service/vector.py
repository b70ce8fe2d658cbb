"""zint's vector model of a symbol, fitted to a printer's dot grid.

A printed barcode scans when every bar is drawn the same way wherever it falls: a
module of 2.5 printer dots is printed 2 or 3 dots wide depending on where it lands,
and bars of one width come out in two. So a printed module is a whole number of dots
at the print DPI: zint encodes the symbol at scale k/2, where one module is k units,
and one unit is taken as one dot (1/dpi inch). The same zint symbol gives the vector
model (`Symbol.buffer_vector`) that PDF and EPS files draw, and the bitmap
(`Symbol.buffer`) that is decoded back before anyone gets the file: the very dots a
printer at that DPI prints.

`fit` chooses the largest whole k whose symbol fits a box of dots (1D bars grow to the
box's height) and returns a `FittedSymbol`: the shapes in dots, upright, y down.
`Placement` puts one on a page (offset in whole dots, a quarter turn) and gives the
affine map a PDF or EPS writer applies.

zint is imported inside `render.encode_symbol`: only print requests pay for it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from .errors import InvalidParameter
from .render import (
    MIN_BAR_MODULES,
    TEXT_MIN_PIXELS_PER_MODULE,
    Drawing,
    Raster,
    Style,
    encode_symbol,
)
from .symbologies import Symbology

MM_PER_INCH = 25.4
POINTS_PER_INCH = 72.0
MAX_DOTS_PER_MODULE = 400  # zint's largest scale (200) is 400 units per module

ULTRACODE_COLOURS = {
    1: "00FFFF",  # zint's colour numbers: cyan, blue, magenta, red, yellow, green, black, white
    2: "0000FF",
    3: "FF00FF",
    4: "FF0000",
    5: "FFFF00",
    6: "00FF00",
    7: "000000",
    8: "FFFFFF",
}


def mm_to_dots(mm: float, dpi: int) -> float:
    return mm / MM_PER_INCH * dpi


@dataclass(frozen=True)
class Hexagon:
    x: float  # centre
    y: float
    diameter: float  # vertex to opposite vertex; zint's hexagons have a vertex on top


@dataclass(frozen=True)
class Circle:
    x: float  # centre
    y: float
    diameter: float
    ring: float  # stroke width of a ring (centred on the diameter); 0 for a filled disc


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    size: float  # font size in dots
    width: float  # the width zint gives the text
    align: str  # "centre", "left" or "right" of x
    text: str


_ALIGN = {0: "centre", 1: "left", 2: "right"}


@dataclass(frozen=True)
class FittedSymbol:
    """One symbol at k dots per module: its shapes in dots (upright, y down from the
    symbol's top-left, quiet zones included) and the bitmap of the same symbol.

    Rectangles are kept as their "x y width height" text: the operands PDF's `re` and
    PostScript's `rectfill` share, as zint wrote them (see `_rectangles`)."""

    symbology: Symbology
    content: str
    dots_per_module: int
    width: float
    height: float
    bars: tuple[str, ...]  # in the foreground colour
    tiles: tuple[tuple[str, str], ...]  # (RRGGBB, rectangle): Ultracode's coloured ones
    hexagons: tuple[Hexagon, ...]
    circles: tuple[Circle, ...]
    texts: tuple[Text, ...]
    raster: Raster

    def shapes_only(self) -> FittedSymbol:
        """The symbol without its bitmap, once it was read back: a sheet keeps thousands
        of symbols until its PDF is written, and the bitmaps are most of their memory."""
        return replace(self, raster=Raster(b"", 0, 0))

    def drawing(self, style: Style) -> Drawing:
        """The bitmap as a render.Drawing (what verify reads back), canvas = symbol."""
        size = (self.raster.width, self.raster.height)
        return Drawing(self.raster, self.dots_per_module, size, style)


def number(value: float) -> str:
    """A coordinate as PDF and PostScript read it: zint's are float32, so 4 decimals;
    `g` drops trailing zeros, and after rounding never needs an exponent here."""
    return f"{round(value, 4) + 0.0:g}"  # + 0.0: -0.0 is written 0


_SVG_RECT = re.compile(r"M(-?[\d.]+) (-?[\d.]+)h([\d.]+)v([\d.]+)h-")


def _rectangles(
    symbol: Any, ultracode: bool
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The vector model's rectangles as "x y w h" text: (foreground, coloured tiles).

    Read from zint's own SVG of the same vector model (its one `<path>` holds every
    rectangle, "Mx yhWvHh-WZ", in model order): one native call and a regular
    expression, where reading the model's Python objects costs ~2 us a rectangle, one
    attribute at a time (a third of a label sheet's time). The count is checked
    against the model; Ultracode's colours, or any mismatch, read the objects instead.

    `print` rebuilds the vector model: objects taken from it before are freed then,
    so nothing from the old one is used after it.
    """
    if not ultracode:
        import zint  # noqa: PLC0415 - loaded already by the encode

        count = len(symbol.vector.rectangles)
        symbol.outfile = "symbol.svg"
        symbol.output_options |= zint.OutputOptions.BARCODE_MEMORY_FILE
        symbol.print()
        found = _SVG_RECT.findall(bytes(symbol.memfile).decode("utf-8"))
        if len(found) == count:
            return tuple(map(" ".join, found)), ()
    bars, tiles = [], []
    for r in symbol.vector.rectangles:
        numbers = f"{number(r.x)} {number(r.y)} {number(r.width)} {number(r.height)}"
        colour = ULTRACODE_COLOURS.get(r.colour)
        if colour is None:
            bars.append(numbers)
        else:
            tiles.append((colour, numbers))
    return tuple(bars), tuple(tiles)


def _shapes(symbol: Any, spec: SymbolSpec, k: int) -> FittedSymbol:
    symbol.buffer_vector()
    vector = symbol.vector
    width, height = float(vector.width), float(vector.height)
    # Most symbols have none of these: asking for the length first skips building them.
    hexagons = tuple(Hexagon(h.x, h.y, h.diameter) for h in vector.hexagons or ())
    circles = tuple(Circle(c.x, c.y, c.diameter, c.width) for c in vector.circles or ())
    texts = tuple(
        Text(s.x, s.y, s.fsize, s.width, _ALIGN.get(s.halign, "centre"), s.text)
        for s in vector.strings or ()
    )
    bars, tiles = _rectangles(symbol, spec.symbology.zint == "ULTRA")
    symbol.buffer()
    rows, columns = symbol.bitmap.shape[:2]
    raster = Raster(bytes(symbol.bitmap), int(columns), int(rows))
    return FittedSymbol(
        spec.symbology,
        spec.content,
        k,
        width,
        height,
        bars,
        tiles,
        hexagons,
        circles,
        texts,
        raster,
    )


def _vector_size(symbol: Any) -> tuple[float, float]:
    symbol.buffer_vector()
    return float(symbol.vector.width), float(symbol.vector.height)


@dataclass(frozen=True)
class SymbolSpec:
    """What zint encodes: the type, its content, the text under it and quiet zones."""

    symbology: Symbology
    content: str
    show_text: bool = False
    quiet_zone: bool = True

    def at(self, k: int, bar_modules: float | None = None) -> Any:
        """The zint symbol at k units (dots) per module, 1D bars `bar_modules` high."""
        style = Style(quiet_zone=self.quiet_zone)
        return encode_symbol(
            self.symbology,
            self.content,
            self.show_text,
            scale=k / 2,
            bar_height=bar_modules,
            style=style,
        )

    def modules(self) -> tuple[float, float]:
        """The symbol's size in modules (1D bars at their least height)."""
        return _vector_size(self.at(1, MIN_BAR_MODULES if self.symbology.stretch else None))


def fit(
    spec: SymbolSpec,
    box: tuple[float, float],
    *,
    least_k: int = 1,
    most_k: int = MAX_DOTS_PER_MODULE,
    least_bar_dots: float = 0.0,
) -> FittedSymbol:
    """The symbol at the largest whole dots per module (`least_k` to `most_k`) that fits
    `box` (width, height in dots, upright); 1D bars fill the box's height, at least
    `least_bar_dots`. InvalidParameter (field "size") when even `least_k` does not fit.

    One encode: zint draws (`buffer`, `buffer_vector`) at the scale and bar height set
    when it draws, so the encoded symbol is measured at `least_k`, then scaled to k and
    its bars grown (the same bitmap as a fresh encode at k, tested)."""
    width, height = box
    stretch = spec.symbology.stretch
    least_k = max(least_k, TEXT_MIN_PIXELS_PER_MODULE if spec.show_text else 1)

    def bars_at(k: int) -> float:
        return max(MIN_BAR_MODULES, least_bar_dots / k)

    symbol = spec.at(least_k, bars_at(least_k) if stretch else None)
    w0, h0 = _vector_size(symbol)
    if w0 > width or h0 > height:
        raise InvalidParameter(
            f"{spec.symbology.title} does not fit {width:g} x {height:g} dots at "
            f"{least_k} dots per module",
            field="size",
        )
    k = min(int(width // (w0 / least_k)), most_k)
    if not stretch:
        k = min(k, int(height // (h0 / least_k)))
    measured = (h0, least_k, bars_at(least_k))
    # Text does not scale exactly with k: a k that overflows steps down.
    for k in range(max(k, least_k), least_k - 1, -1):  # noqa: B020 - stepping down from it
        symbol.scale = k / 2
        if stretch:
            _fill_height(symbol, k, bars_at(k), measured, height)
        w, h = _vector_size(symbol)
        if w <= width and h <= height:
            return _shapes(symbol, spec, k)
    raise AssertionError("unreachable: least_k was measured to fit")  # pragma: no cover


def _fill_height(
    symbol: Any, k: int, least: float, measured: tuple[float, int, float], height: float
) -> None:
    """Grow the 1D bars of `symbol` (at k) as tall as `height` allows, at least `least`
    modules. `measured` is (height, k0, bars) of the symbol at k0: its height less its
    bars is the text under them, which grows with k. zint rounds heights (float32): a
    symbol that overflows is trimmed."""
    h0, k0, bars0 = measured
    text = (h0 - bars0 * k0) / k0 * k
    bars = max(least, (height - text) / k - 0.01)
    for _ in range(4):
        symbol.height = bars
        _, h = _vector_size(symbol)
        if h <= height:
            return
        bars = max(least, bars - max((h - height) / k, 0.01))
    symbol.height = least


# --- placing a symbol on a page ---------------------------------------------------------

Matrix = tuple[float, float, float, float, float, float]
"""A PDF / PostScript affine map [a b c d e f]: (x, y) -> (a x + c y + e, b x + d y + f)."""


@dataclass(frozen=True)
class Placement:
    """Where a fitted symbol goes on a page: its turned box's top-left `left`, `top` in
    whole dots from the page's top-left, turned clockwise by `rotate` degrees."""

    symbol: FittedSymbol
    left: int
    top: int
    rotate: int
    dpi: int

    def matrix(self, page_height_pt: float) -> Matrix:
        """The map from the symbol's own dots (y down) to PDF points (y up) on a page
        `page_height_pt` high."""
        s = POINTS_PER_INCH / self.dpi
        w, h = self.symbol.width, self.symbol.height
        # Symbol dots (x, y) -> page dots (X, Y), y down: a quarter turn clockwise per 90.
        a, b, c, d, e, f = {
            0: (1, 0, 0, 1, 0, 0),
            90: (0, 1, -1, 0, h, 0),
            180: (-1, 0, 0, -1, w, h),
            270: (0, -1, 1, 0, 0, w),
        }[self.rotate]
        e, f = e + self.left, f + self.top
        # Page dots, y down -> PDF points, y up: X s, H - Y s.
        return (a * s, -b * s, c * s, -d * s, e * s, page_height_pt - f * s)


def centred(symbol: FittedSymbol, canvas: tuple[float, float], rotate: int, dpi: int) -> Placement:
    """The symbol centred on a canvas of `canvas` dots, at whole-dot offsets."""
    sideways = rotate in (90, 270)
    w, h = (symbol.height, symbol.width) if sideways else (symbol.width, symbol.height)
    left = max(0, math.floor((canvas[0] - w) / 2))
    top = max(0, math.floor((canvas[1] - h) / 2))
    return Placement(symbol, left, top, rotate, dpi)


def rgb(colour: str) -> tuple[float, float, float]:
    """An RRGGBB colour as 0..1 channels."""
    return (int(colour[0:2], 16) / 255, int(colour[2:4], 16) / 255, int(colour[4:6], 16) / 255)
