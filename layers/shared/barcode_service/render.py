"""Local rendering with zint: exact-size 1-bit PNG and SVG with a viewBox.

A PNG is never resampled: zint draws every module as k x k whole pixels (the
largest k that fits) and the symbol is centred on a white canvas of exactly the
requested size. Resizing bars after the fact makes Code 128 / Code 39 unscannable.
1D bars (`Symbology.stretch`) grow to fill the requested height instead.

zint and Pillow are imported inside the functions: the handler imports this module
at cold start, and only renders need them.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from .errors import InvalidParameter
from .symbologies import Symbology

if TYPE_CHECKING:
    from PIL.Image import Image

MIN_BAR_MODULES = 10.0
"""Shortest bars (in module widths) we draw; shorter ones are hard to aim a scanner at."""

MAX_PIXELS_PER_MODULE = 400  # zint's largest scale (200) is 400 px per module

UTF8_ECI = 26

_ZINT_ERROR = re.compile(r"^(?:Error|Warning) \d+: ")
_SVG_SIZE = re.compile(r'<svg width="([\d.]+)" height="([\d.]+)"')


def _encode(
    symbology: Symbology,
    content: str,
    show_text: bool,
    *,
    scale: float,
    bar_height: float | None = None,
    svg: bool = False,
) -> Any:
    """An encoded zint symbol; zint's complaints become a 400 naming the type."""
    import zint  # noqa: PLC0415 - lazy: only renders pay for the native import

    symbol = zint.Symbol()
    symbol.symbology = getattr(zint.Symbology, symbology.zint)
    # Warnings (e.g. content silently changed) are treated as errors, never shipped.
    symbol.warn_level = zint.WarningLevel.FAIL_ALL
    symbol.output_options |= zint.OutputOptions.BARCODE_QUIET_ZONES
    symbol.show_hrt = show_text
    symbol.scale = scale
    if symbology.option_2 is not None:
        symbol.option_2 = symbology.option_2
    if symbology.input_mode is not None:
        symbol.input_mode = getattr(zint.InputMode, symbology.input_mode)
    if symbology.input_mode == "UNICODE" and not _latin1(content):
        # Without an ECI zint falls back to a national charset (and warns); UTF-8 is
        # what every phone reader expects.
        symbol.eci = UTF8_ECI
    if bar_height is not None:
        symbol.height = bar_height
    if svg:
        symbol.outfile = "symbol.svg"
        symbol.output_options |= zint.OutputOptions.BARCODE_MEMORY_FILE
    try:
        symbol.encode(symbology.zint_data(content))
    except RuntimeError as error:
        reason = _ZINT_ERROR.sub("", str(error))
        raise InvalidParameter(f"{symbology.title} cannot encode this content: {reason}") from None
    return symbol


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _raster(
    symbology: Symbology, content: str, show_text: bool, k: int, bar_height: float | None = None
) -> tuple[Any, int, int]:
    """The symbol drawn at k px/module: (symbol, width, height) of its bitmap."""
    symbol = _encode(symbology, content, show_text, scale=k / 2, bar_height=bar_height)
    symbol.buffer()
    height, width = symbol.bitmap.shape[:2]
    return symbol, int(width), int(height)


def minimum_size(symbology: Symbology, content: str, show_text: bool) -> tuple[int, int]:
    """Smallest (width, height) in px that holds the symbol at 1 px per module."""
    bar_height = MIN_BAR_MODULES if symbology.stretch else None
    _, width, height = _raster(symbology, content, show_text, 1, bar_height)
    return width, height


def check_size(
    symbology: Symbology, content: str, show_text: bool, width: int, height: int
) -> tuple[int, int]:
    """The minimum size, or a 400 saying how big width/height must be for this symbol."""
    w1, h1 = minimum_size(symbology, content, show_text)
    if w1 > width or h1 > height:
        raise InvalidParameter(
            f"{symbology.title} with this content needs at least {w1} x {h1} px "
            f"(1 px per module, quiet zones included); got {width} x {height}: "
            "increase width/height or shorten the content"
        )
    return w1, h1


def _fit(
    symbology: Symbology, content: str, show_text: bool, width: int, height: int
) -> tuple[Any, int, int]:
    """The largest whole-pixel rendering that fits width x height: (symbol, w, h)."""
    w1, h1 = check_size(symbology, content, show_text, width, height)
    largest = min(width // w1, MAX_PIXELS_PER_MODULE)
    if not symbology.stretch:
        largest = min(largest, height // h1)
    # Text and dot sizes do not scale exactly with k: measure, step down if needed.
    for k in range(max(largest, 1), 0, -1):
        if not symbology.stretch:
            symbol, w, h = _raster(symbology, content, show_text, k)
            if w <= width and h <= height:
                return symbol, w, h
            continue
        symbol, w, h = _raster(symbology, content, show_text, k, MIN_BAR_MODULES)
        if w > width or h > height:
            continue
        bars = MIN_BAR_MODULES + (height - h) / k
        for _ in range(4):  # zint rounds bar heights: trim until it fits
            symbol, w, h = _raster(symbology, content, show_text, k, bars)
            if h <= height:
                return symbol, w, h
            bars = max(MIN_BAR_MODULES, bars - (h - height) / k)
        return _raster(symbology, content, show_text, k, MIN_BAR_MODULES)
    raise AssertionError("unreachable: the 1 px/module size was checked")  # pragma: no cover


def render_image(
    symbology: Symbology, content: str, width: int, height: int, show_text: bool = False
) -> Image:
    """The barcode as a 1-bit Pillow image of exactly width x height."""
    from PIL import Image  # noqa: PLC0415 - lazy, see module docstring

    symbol, w, h = _fit(symbology, content, show_text, width, height)
    drawn = Image.frombytes("RGB", (w, h), bytes(symbol.bitmap))
    drawn = drawn.convert("1", dither=Image.Dither.NONE)
    canvas = Image.new("1", (width, height), 1)
    canvas.paste(drawn, ((width - w) // 2, (height - h) // 2))
    return canvas


def render_png(
    symbology: Symbology, content: str, width: int, height: int, show_text: bool = False
) -> bytes:
    """A 1-bit PNG of exactly width x height."""
    out = io.BytesIO()
    render_image(symbology, content, width, height, show_text).save(out, format="PNG")
    return out.getvalue()


def _svg(
    symbology: Symbology, content: str, show_text: bool, bar_height: float | None
) -> tuple[str, float, float]:
    symbol = _encode(symbology, content, show_text, scale=0.5, bar_height=bar_height, svg=True)
    symbol.print()
    text = bytes(symbol.memfile).decode("utf-8")
    match = _SVG_SIZE.search(text)
    if match is None:  # pragma: no cover - zint always writes width and height
        raise RuntimeError("zint SVG without a size")
    return text, float(match.group(1)), float(match.group(2))


def render_svg(
    symbology: Symbology, content: str, width: int, height: int, show_text: bool = False
) -> bytes:
    """An SVG of width x height whose viewBox is the symbol (1 unit per module)."""
    check_size(symbology, content, show_text, width, height)
    bar_height = None
    if symbology.stretch:
        # Choose the bar height that gives the symbol the requested aspect ratio.
        _, w, h = _svg(symbology, content, show_text, MIN_BAR_MODULES)
        bar_height = max(MIN_BAR_MODULES, MIN_BAR_MODULES + height * w / width - h)
    text, w, h = _svg(symbology, content, show_text, bar_height)
    root = (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {w:g} {h:g}" '
        'preserveAspectRatio="xMidYMid meet"'
    )
    return _SVG_SIZE.sub(root, text, count=1).encode("utf-8")
