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

zint is imported inside `render._encode`: only print requests pay for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from .errors import InvalidParameter
from .render import (
    MIN_BAR_MODULES,
    TEXT_MIN_PIXELS_PER_MODULE,
    Drawing,
    Raster,
    Style,
    _encode,
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


def dots_to_points(dots: float, dpi: int) -> float:
    return dots * POINTS_PER_INCH / dpi


def mm_to_points(mm: float) -> float:
    return mm / MM_PER_INCH * POINTS_PER_INCH


class Rect(NamedTuple):
    """A module or bar (a tuple: a 2D symbol has hundreds, made per label)."""

    x: float
    y: float
    width: float
    height: float
    colour: str | None = None  # None: the foreground colour


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
    symbol's top-left, quiet zones included) and the bitmap of the same symbol."""

    symbology: Symbology
    content: str
    dots_per_module: int
    width: float
    height: float
    rects: tuple[Rect, ...]
    hexagons: tuple[Hexagon, ...]
    circles: tuple[Circle, ...]
    texts: tuple[Text, ...]
    raster: Raster

    @cached_property
    def rect_numbers(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The rectangles as "x y width height" text, foreground ones then coloured ones
        (Ultracode's): the operands PDF's `re` and PostScript's `rectfill` share, written
        once per symbol however many labels carry it."""
        plain = tuple(_numbers(r) for r in self.rects if r.colour is None)
        return plain, tuple(_numbers(r) for r in self.rects if r.colour is not None)

    def drawing(self, style: Style) -> Drawing:
        """The bitmap as a render.Drawing (what verify reads back), canvas = symbol."""
        size = (self.raster.width, self.raster.height)
        return Drawing(self.raster, self.dots_per_module, size, style)


def number(value: float) -> str:
    """A coordinate as PDF and PostScript read it: zint's are float32, so 4 decimals;
    `g` drops trailing zeros, and after rounding never needs an exponent here."""
    return f"{round(value, 4) + 0.0:g}"  # + 0.0: -0.0 is written 0


def _numbers(rect: Rect) -> str:
    x, y, w, h = round(rect.x, 4), round(rect.y, 4), round(rect.width, 4), round(rect.height, 4)
    return f"{x:g} {y:g} {w:g} {h:g}"


def _shapes(symbol: Any, spec: SymbolSpec, k: int) -> FittedSymbol:
    symbol.buffer_vector()
    vector = symbol.vector
    rects = tuple(
        Rect(r.x, r.y, r.width, r.height, ULTRACODE_COLOURS.get(r.colour))
        for r in vector.rectangles
    )
    hexagons = tuple(Hexagon(h.x, h.y, h.diameter) for h in vector.hexagons)
    circles = tuple(Circle(c.x, c.y, c.diameter, c.width) for c in vector.circles)
    texts = tuple(
        Text(s.x, s.y, s.fsize, s.width, _ALIGN.get(s.halign, "centre"), s.text)
        for s in vector.strings
    )
    symbol.buffer()
    height, width = symbol.bitmap.shape[:2]
    raster = Raster(bytes(symbol.bitmap), int(width), int(height))
    return FittedSymbol(
        spec.symbology,
        spec.content,
        k,
        float(vector.width),
        float(vector.height),
        rects,
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
        return _encode(
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
    least_bar_dots: float = 0.0,
) -> FittedSymbol:
    """The symbol at the largest whole dots per module that fits `box` (width, height
    in dots, upright); 1D bars fill the box's height. InvalidParameter (field "size")
    when even `least_k` dots per module, or bars of `least_bar_dots`, do not fit."""
    width, height = box
    symbology = spec.symbology
    least_k = max(least_k, TEXT_MIN_PIXELS_PER_MODULE if spec.show_text else 1)
    w1, h1 = spec.modules()
    largest = min(int(width // w1), MAX_DOTS_PER_MODULE)
    if not symbology.stretch:
        largest = min(largest, int(height // h1))
    for k in range(largest, least_k - 1, -1):
        bars = max(MIN_BAR_MODULES, least_bar_dots / k) if symbology.stretch else None
        symbol = spec.at(k, bars)
        w, h = _vector_size(symbol)
        if w > width or h > height:
            continue  # text and dots do not scale exactly with k
        if bars is not None:
            symbol = _fill_height(spec, k, bars, bars + (height - h) / k, height)
        return _shapes(symbol, spec, k)
    raise InvalidParameter(
        f"{symbology.title} does not fit {width:g} x {height:g} dots at {least_k} dots per module",
        field="size",
    )


def _fill_height(spec: SymbolSpec, k: int, least: float, bars: float, height: float) -> Any:
    """The symbol at k with its bars as tall as `height` allows (zint rounds heights)."""
    for _ in range(4):
        symbol = spec.at(k, bars)
        _, h = _vector_size(symbol)
        if h <= height:
            return symbol
        # zint keeps heights as float32: step down by at least a hundredth of a module.
        bars = max(least, bars - max((h - height) / k, 0.01))
    return spec.at(k, least)


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

    @property
    def turned_size(self) -> tuple[float, float]:
        """(width, height) in dots of the symbol as placed."""
        s = self.symbol
        return (s.height, s.width) if self.rotate in (90, 270) else (s.width, s.height)

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
