"""Local rendering with zint: exact-size PNG and SVG, in colour, rotated, at a DPI.

A PNG is never resampled: zint draws every module as k x k whole pixels (the
largest k that fits) and the symbol is centred on a canvas of exactly the requested
size. Resizing bars after the fact makes Code 128 / Code 39 unscannable. 1D bars
(`Symbology.stretch`) grow to fill the requested height instead. Colours are applied
to the finished bitmap (a two-colour palette PNG, the background optionally
transparent); rotation is a lossless quarter turn of it. png.py writes the PNG.

zint and Pillow are imported inside the functions: the handler imports this module
at cold start, and only renders need them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache, reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from .errors import InvalidParameter
from .symbologies import Symbology
from .zint_loader import load_zint

if TYPE_CHECKING:
    from PIL.Image import Image

MIN_BAR_MODULES = 10.0
"""Shortest bars (in module widths) we draw; shorter ones are hard to aim a scanner at."""

MAX_PIXELS_PER_MODULE = 400  # zint's largest scale (200) is 400 px per module
TEXT_MIN_PIXELS_PER_MODULE = 2  # zint drops the human-readable text below this

UTF8_ECI = 26

_ZINT_ERROR = re.compile(r"^(?:Error|Warning) \d+: ")


@dataclass(frozen=True)
class Style:
    """How the symbol looks, apart from its size: colours, turn and quiet zones."""

    fg: str = "000000"  # RRGGBB, upper case
    bg: str | None = "FFFFFF"  # RRGGBB, or None for a transparent background
    rotate: int = 0  # clockwise quarter turns in degrees: 0, 90, 180, 270
    quiet_zone: bool = True

    @property
    def sideways(self) -> bool:
        return self.rotate in (90, 270)

    @property
    def plain(self) -> bool:
        """Black on white: stored as a 1-bit PNG."""
        return self.fg == "000000" and self.bg == "FFFFFF"


PLAIN = Style()


@dataclass(frozen=True)
class Raster:
    """zint's bitmap of the symbol, as zint drew it: RGB rows, black on white (every
    channel 0 or 255). The one copy of the pixels that is decoded back and written."""

    data: bytes
    width: int
    height: int

    @property
    def stride(self) -> int:
        return 3 * self.width

    def grey_rows(self, first: int, count: int) -> bytes:
        """`count` rows from `first` as grey bytes (one channel: the pixels are grey)."""
        return self.data[first * self.stride : (first + count) * self.stride : 3]

    def runs(self) -> tuple[tuple[int, int], ...]:
        """The rows as runs of byte-identical rows: (first row, how many), top to bottom.

        Exact (bytes compared, nothing sampled): a PNG built from one row per run is the
        bitmap itself. 1D bars are one long run; a k px module row is a run of k.
        """
        stride, data, height = self.stride, self.data, self.height
        current = data[:stride]
        if data == current * height:  # 1D bars without text: one comparison
            return ((0, height),)
        runs: list[tuple[int, int]] = []
        start = 0
        for row in range(1, height):
            if not data.startswith(current, row * stride):
                runs.append((start, row - start))
                start = row
                current = data[row * stride : (row + 1) * stride]
        runs.append((start, height - start))
        return tuple(runs)


@dataclass(frozen=True)
class Drawing:
    """A raster render: zint's bitmap of the symbol (what is decoded back), how many
    pixels one module is, the upright canvas size it is centred on, and the style.

    `image` (the final image), `upright` (before the quarter turn) and `symbol` (the
    symbol alone in its colours) are Pillow images made on demand; `png_bytes` writes
    an upright render straight from the bitmap's rows instead.
    """

    raster: Raster
    module_px: int
    canvas_size: tuple[int, int]  # upright (width, height)
    style: Style = PLAIN

    @property
    def offset(self) -> tuple[int, int]:
        """Where the symbol's top-left pixel is on the upright canvas (centred)."""
        cw, ch = self.canvas_size
        return (cw - self.raster.width) // 2, (ch - self.raster.height) // 2

    @cached_property
    def _drawn(self) -> Image:
        from PIL import Image  # noqa: PLC0415 - lazy, see module docstring

        raster = self.raster
        return Image.frombytes(
            "L", (raster.width, raster.height), raster.grey_rows(0, raster.height)
        )

    @cached_property
    def upright(self) -> Image:
        from PIL import Image  # noqa: PLC0415

        canvas = Image.new("L", self.canvas_size, 255)
        canvas.paste(self._drawn, self.offset)
        if self.style.plain:
            return canvas.convert("1", dither=Image.Dither.NONE)
        return _coloured(canvas, self.style)

    @cached_property
    def symbol(self) -> Image:
        return self._drawn if self.style.plain else _coloured(self._drawn, self.style)

    @cached_property
    def image(self) -> Image:
        from PIL import Image  # noqa: PLC0415

        if not self.style.rotate:
            return self.upright
        return self.upright.transpose(getattr(Image.Transpose, _TURNS[self.style.rotate]))


def encode_symbol(
    symbology: Symbology,
    content: str,
    show_text: bool,
    *,
    scale: float,
    bar_height: float | None = None,
    svg: bool = False,
    style: Style = PLAIN,
) -> Any:
    """An encoded zint symbol; zint's complaints become a 400 naming the type."""
    load_zint()  # without zint's own `import pydoc` (zint_loader.py)
    import zint  # noqa: PLC0415 - lazy: only renders pay for the native import

    symbol = zint.Symbol()
    symbol.symbology = getattr(zint.Symbology, symbology.zint)
    # Warnings (e.g. content silently changed) are treated as errors, never shipped.
    symbol.warn_level = zint.WarningLevel.FAIL_ALL
    symbol.output_options = (  # a new symbol has none set: no flag arithmetic needed
        zint.OutputOptions.BARCODE_QUIET_ZONES
        if style.quiet_zone
        else zint.OutputOptions.BARCODE_NO_QUIET_ZONES
    )
    symbol.show_hrt = show_text
    symbol.scale = scale
    if symbology.option_2 is not None:
        symbol.option_2 = symbology.option_2
    if symbology.input_mode is not None:
        modes = (getattr(zint.InputMode, name) for name in symbology.input_mode.split("|"))
        symbol.input_mode = reduce(or_, modes)
    if symbology.input_mode == "UNICODE" and not _latin1(content):
        # Without an ECI zint falls back to a national charset (and warns); UTF-8 is
        # what every phone reader expects.
        symbol.eci = UTF8_ECI
    if bar_height is not None:
        symbol.height = bar_height
    if svg:
        symbol.outfile = "symbol.svg"
        symbol.output_options |= zint.OutputOptions.BARCODE_MEMORY_FILE
        symbol.fgcolour = style.fg
        symbol.bgcolour = style.bg if style.bg is not None else "FFFFFF00"
    try:
        symbol.encode(symbology.zint_data(content))
    except RuntimeError as error:
        reason = _ZINT_ERROR.sub("", str(error))
        raise InvalidParameter(
            f"{symbology.title} cannot encode this content: {reason}", field="content"
        ) from None
    return symbol


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _raster(
    symbology: Symbology,
    content: str,
    show_text: bool,
    k: int,
    bar_height: float | None = None,
    *,
    style: Style = PLAIN,
) -> tuple[Any, int, int]:
    """The symbol drawn at k px/module: (symbol, width, height) of its bitmap."""
    symbol = encode_symbol(
        symbology, content, show_text, scale=k / 2, bar_height=bar_height, style=style
    )
    symbol.buffer()
    height, width = symbol.bitmap.shape[:2]
    return symbol, int(width), int(height)


def size_at(
    symbology: Symbology, content: str, show_text: bool, k: int, *, style: Style = PLAIN
) -> tuple[int, int]:
    """Smallest (width, height) in px of the final image at k px per module."""
    width, height = _upright_size(symbology, content, show_text, k, style.quiet_zone)
    return (height, width) if style.sideways else (width, height)


@lru_cache(maxsize=256)
def _upright_size(
    symbology: Symbology, content: str, show_text: bool, k: int, quiet_zone: bool
) -> tuple[int, int]:
    # Measured once per request: validation, fitting and warnings all ask.
    bar_height = MIN_BAR_MODULES if symbology.stretch else None
    style = PLAIN if quiet_zone else Style(quiet_zone=False)
    _, width, height = _raster(symbology, content, show_text, k, bar_height, style=style)
    return width, height


def minimum_size(
    symbology: Symbology, content: str, show_text: bool, *, style: Style = PLAIN
) -> tuple[int, int]:
    """Smallest (width, height) in px that holds the symbol: 1 px per module, or the
    2 px per module below which zint would silently leave the text out."""
    k = TEXT_MIN_PIXELS_PER_MODULE if show_text else 1
    return size_at(symbology, content, show_text, k, style=style)


def check_size(
    symbology: Symbology,
    content: str,
    show_text: bool,
    width: int,
    height: int,
    *,
    style: Style = PLAIN,
) -> tuple[int, int]:
    """The minimum size, or a 400 saying how big width/height must be for this symbol."""
    w1, h1 = minimum_size(symbology, content, show_text, style=style)
    if w1 > width or h1 > height:
        field = "width" if w1 > width else "height"
        if show_text:
            bare_w, bare_h = minimum_size(symbology, content, False, style=style)
            fits_bare = bare_w <= width and bare_h <= height
            detail = (
                f"{symbology.title} with show_text needs at least {w1} x {h1} px "
                f"(2 px per module, the least that draws the text); got {width} x {height}: "
                "increase width/height"
                + (" or leave show_text off" if fits_bare else " or shorten the content")
            )
        else:
            detail = (
                f"{symbology.title} with this content needs at least {w1} x {h1} px "
                f"(1 px per module, quiet zones included); got {width} x {height}: "
                "increase width/height or shorten the content"
            )
        raise InvalidParameter(detail, field=field)
    return w1, h1


def _fit(
    symbology: Symbology,
    content: str,
    show_text: bool,
    size: tuple[int, int],
    style: Style,
) -> tuple[Any, int, int, int]:
    """The largest whole-pixel rendering that fits width x height: (symbol, w, h, k),
    in the symbol's own orientation (the caller turns it)."""
    width, height = size
    check_size(symbology, content, show_text, width, height, style=style)
    if style.sideways:
        width, height = height, width
    w1, h1 = size_at(symbology, content, False, 1, style=unturned(style))
    smallest = TEXT_MIN_PIXELS_PER_MODULE if show_text else 1
    largest = min(width // w1, MAX_PIXELS_PER_MODULE)
    if not symbology.stretch:
        largest = min(largest, height // h1)
    # Text and dot sizes do not scale exactly with k: measure, step down if needed.
    for k in range(max(largest, smallest), smallest - 1, -1):
        if not symbology.stretch:
            w, h = _upright_size(symbology, content, show_text, k, style.quiet_zone)
            if w <= width and h <= height:
                symbol, w, h = _raster(symbology, content, show_text, k, style=style)
                return symbol, w, h, k
            continue
        w, h = _upright_size(symbology, content, show_text, k, style.quiet_zone)
        if w > width or h > height:
            continue
        bars = MIN_BAR_MODULES + (height - h) / k
        for _ in range(4):  # zint rounds bar heights: trim until it fits
            symbol, w, h = _raster(symbology, content, show_text, k, bars, style=style)
            if h <= height:
                return symbol, w, h, k
            bars = max(MIN_BAR_MODULES, bars - (h - height) / k)
        symbol, w, h = _raster(symbology, content, show_text, k, MIN_BAR_MODULES, style=style)
        return symbol, w, h, k
    raise AssertionError("unreachable: the minimum size was checked")  # pragma: no cover


def unturned(style: Style) -> Style:
    """What zint's geometry depends on (quiet zones), without colour or rotation."""
    return PLAIN if style.quiet_zone else Style(quiet_zone=False)


_TURNS = {90: "ROTATE_270", 180: "ROTATE_180", 270: "ROTATE_90"}  # Pillow turns anticlockwise


def draw(
    symbology: Symbology,
    content: str,
    width: int,
    height: int,
    show_text: bool = False,
    *,
    style: Style = PLAIN,
) -> Drawing:
    """The barcode at exactly width x height: 1-bit when black on white, else a
    two-colour palette image (index 0 = bars, 1 = background)."""
    symbol, w, h, k = _fit(symbology, content, show_text, (width, height), style)
    raster = Raster(bytes(symbol.bitmap), w, h)
    canvas_size = (height, width) if style.sideways else (width, height)
    return Drawing(raster, k, canvas_size, style)


_INDEX = [0] * 128 + [1] * 128  # grey 0 (bars) -> palette 0, 255 (space) -> palette 1


def _coloured(canvas: Image, style: Style) -> Image:
    """A two-colour palette image: index 0 = bars (fg), 1 = background (bg or transparent)."""
    indexed = canvas.point(_INDEX)
    # A transparent background keeps white in the palette: what a reader sees on paper.
    indexed.putpalette([*rgb(style.fg), *rgb(style.bg or "FFFFFF")])
    if style.bg is None:
        indexed.info["transparency"] = 1
    return indexed


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def render_image(
    symbology: Symbology, content: str, width: int, height: int, show_text: bool = False
) -> Image:
    """The barcode as a 1-bit Pillow image of exactly width x height (black on white)."""
    return draw(symbology, content, width, height, show_text).image
