"""Local rendering with zint: exact-size PNG and SVG, in colour, rotated, at a DPI.

A PNG is never resampled: zint draws every module as k x k whole pixels (the
largest k that fits) and the symbol is centred on a canvas of exactly the requested
size. Resizing bars after the fact makes Code 128 / Code 39 unscannable. 1D bars
(`Symbology.stretch`) grow to fill the requested height instead. Colours are applied
to the finished bitmap (a two-colour palette PNG, the background optionally
transparent); rotation is a lossless quarter turn of it; the DPI goes into `pHYs`.

zint and Pillow are imported inside the functions: the handler imports this module
at cold start, and only renders need them.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
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

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_COMPRESS_LEVEL = 1
"""zlib's fastest: the scanlines are runs of repeated rows (a few kB), level 6 makes them
at most ~20% smaller (tens of bytes) at twice the time."""
PNG_WINDOW_BITS = 12
PNG_MEM_LEVEL = 4
"""A 4 kB window (a row of the widest canvas, 4000 px, is 501 bytes: the row above is
always in reach) and small hash tables: zlib's defaults allocate and clear ~256 kB per
stream, which cost more than compressing (~60 us vs ~7 us measured on a loaded machine,
the PNG a few % larger at most)."""

_BINARY_DIGITS = b"0" * 128 + b"1" * 128  # grey -> bit, thresholded as Pillow's "1" mode

_ZINT_ERROR = re.compile(r"^(?:Error|Warning) \d+: ")
_SVG_SIZE = re.compile(r'<svg width="([\d.]+)" height="([\d.]+)"')


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


@dataclass(frozen=True)
class SvgDrawing:
    body: bytes
    module_px: float  # pixels per module at the requested size (not whole: SVG scales)


def _encode(
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
    symbol = _encode(symbology, content, show_text, scale=k / 2, bar_height=bar_height, style=style)
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
    w1, h1 = size_at(symbology, content, False, 1, style=_unturned(style))
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


def _unturned(style: Style) -> Style:
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
    indexed.putpalette([*_rgb(style.fg), *_rgb(style.bg or "FFFFFF")])
    if style.bg is None:
        indexed.info["transparency"] = 1
    return indexed


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def png_bytes(drawing: Drawing, dpi: int | None = None) -> bytes:
    """The drawing as a PNG (1-bit grey, or a 1-bit two-colour palette); `dpi` is
    written into its pHYs chunk.

    An upright drawing is written from its bitmap's rows: each run of identical rows
    (`Raster.runs`) is packed to bits once and repeated, the canvas margins are
    background. The pixels are the same as Pillow writing `drawing.image` (tested);
    packing every pixel of the canvas was most of a render's time. A turned drawing
    goes through Pillow.
    """
    if drawing.style.rotate:
        return _pillow_png(drawing.image, dpi)
    raster, style = drawing.raster, drawing.style
    cw, ch = drawing.canvas_size
    left, top = drawing.offset
    runs = raster.runs()
    row_bytes = (cw + 7) // 8
    # One canvas row per run, and a blank one, in grey (the margins are background and
    # the bits that pad a row to whole bytes are 0); then "0"/"1" per pixel, read as one
    # binary number: its bytes are the packed rows, bars 0 and space 1, which is also
    # the palette's index order (0 = fg, 1 = bg).
    before, pad = b"\xff" * left, b"\x00" * (8 * row_bytes - cw)
    after = b"\xff" * (cw - raster.width - left) + pad
    blank = b"\xff" * cw + pad
    grey = b"".join([blank, *(before + raster.grey_rows(first, 1) + after for first, _ in runs)])
    bits = int(grey.translate(_BINARY_DIGITS), 2).to_bytes(len(grey) // 8, "big")
    rows = [b"\x00" + bits[i * row_bytes : (i + 1) * row_bytes] for i in range(len(runs) + 1)]
    bottom = ch - top - raster.height
    scanlines = b"".join(
        [
            rows[0] * top,
            *(rows[i + 1] * count for i, (_, count) in enumerate(runs)),
            rows[0] * bottom,
        ]
    )
    chunks = [(b"IHDR", struct.pack(">IIBBBBB", cw, ch, 1, 0 if style.plain else 3, 0, 0, 0))]
    if not style.plain:
        chunks.append((b"PLTE", bytes((*_rgb(style.fg), *_rgb(style.bg or "FFFFFF")))))
        if style.bg is None:
            chunks.append((b"tRNS", b"\xff\x00"))  # index 1 (background) transparent
    if dpi is not None:
        per_metre = int(dpi / 0.0254 + 0.5)  # as Pillow writes it
        chunks.append((b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
    deflate = zlib.compressobj(PNG_COMPRESS_LEVEL, zlib.DEFLATED, PNG_WINDOW_BITS, PNG_MEM_LEVEL)
    chunks += [(b"IDAT", deflate.compress(scanlines) + deflate.flush()), (b"IEND", b"")]
    return PNG_SIGNATURE + b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in chunks
    )


def _pillow_png(image: Image, dpi: int | None) -> bytes:
    options: dict[str, Any] = {"format": "PNG", "optimize": False}
    if dpi is not None:
        options["dpi"] = (dpi, dpi)
    if image.mode == "P":
        options["bits"] = 1
        if "transparency" in image.info:
            options["transparency"] = image.info["transparency"]
    out = io.BytesIO()
    image.save(out, **options)
    return out.getvalue()


def render_image(
    symbology: Symbology, content: str, width: int, height: int, show_text: bool = False
) -> Image:
    """The barcode as a 1-bit Pillow image of exactly width x height (black on white)."""
    return draw(symbology, content, width, height, show_text).image


def render_png(
    symbology: Symbology,
    content: str,
    width: int,
    height: int,
    show_text: bool = False,
    *,
    style: Style = PLAIN,
    dpi: int | None = None,
) -> bytes:
    """A PNG of exactly width x height."""
    return png_bytes(draw(symbology, content, width, height, show_text, style=style), dpi)


def _svg(
    symbology: Symbology, content: str, show_text: bool, bar_height: float | None, style: Style
) -> tuple[str, float, float]:
    symbol = _encode(
        symbology, content, show_text, scale=0.5, bar_height=bar_height, svg=True, style=style
    )
    symbol.print(style.rotate)
    text = bytes(symbol.memfile).decode("utf-8")
    match = _SVG_SIZE.search(text)
    if match is None:  # pragma: no cover - zint always writes width and height
        raise RuntimeError("zint SVG without a size")
    return text, float(match.group(1)), float(match.group(2))


def render_svg_drawing(
    symbology: Symbology,
    content: str,
    width: int,
    height: int,
    show_text: bool = False,
    *,
    style: Style = PLAIN,
    physical: tuple[str, str] | None = None,
) -> SvgDrawing:
    """An SVG of width x height whose viewBox is the symbol (1 unit per module).

    `physical` replaces the root's width/height (e.g. ("40mm", "20mm")) so that the
    SVG prints at its size; the viewBox keeps the proportions.
    """
    check_size(symbology, content, show_text, width, height, style=style)
    bar_height = None
    if symbology.stretch:
        # Choose the bar height that gives the symbol the requested aspect ratio.
        along, across = (height, width) if style.sideways else (width, height)
        _, w, h = _svg(symbology, content, show_text, MIN_BAR_MODULES, _unturned(style))
        bar_height = max(MIN_BAR_MODULES, MIN_BAR_MODULES + across * w / along - h)
    text, w, h = _svg(symbology, content, show_text, bar_height, style)
    shown_w, shown_h = physical or (str(width), str(height))
    root = (
        f'<svg width="{shown_w}" height="{shown_h}" viewBox="0 0 {w:g} {h:g}" '
        'preserveAspectRatio="xMidYMid meet"'
    )
    body = _SVG_SIZE.sub(root, text, count=1).encode("utf-8")
    return SvgDrawing(body, round(min(width / w, height / h), 2))


def render_svg(
    symbology: Symbology, content: str, width: int, height: int, show_text: bool = False
) -> bytes:
    """The SVG bytes of `render_svg_drawing`, black on white."""
    return render_svg_drawing(symbology, content, width, height, show_text).body
