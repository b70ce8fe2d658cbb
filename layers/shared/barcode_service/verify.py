"""Local renders decoded back with zxing-cpp before anyone gets them.

`render_verified` draws a request and reads it back: a render that does not decode is
never returned (422 `unscannable`, naming a size that does); one below 2 px per module
carries a warning. `decodes` answers True (the image reads back as its content), False
(it does not) or None (no decoder here reads this type). The image is read as a
scanner sees it: a transparent background over white paper, nothing inverted, only
the type's own format, at the resolution it was drawn at.

No AWS imports here: the keyless image function renders with this module alone.
zxing-cpp is imported inside the function: only renders need it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from . import png, render, svg
from .barcode_request import MAX_DIMENSION, VECTOR_FORMATS, BarcodeRequest
from .errors import InvalidParam, Unscannable
from .observability import count
from .symbologies import ReadBack, Symbology

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class RenderFacts:
    """What a local render was checked to be: kept with the object and in the URL cache."""

    verified: bool | None  # decoded back (None: no decoder here reads the type)
    module_px: float
    warnings: tuple[str, ...] = ()

    def to_metadata(self) -> dict[str, str]:
        """S3 user metadata (ASCII strings only)."""
        return {
            "verified": json.dumps(self.verified),
            "module-px": f"{self.module_px:g}",
            "warnings": json.dumps(list(self.warnings), ensure_ascii=True),
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> RenderFacts | None:
        """The facts of an object written by `to_metadata`; None for older objects."""
        try:
            verified = json.loads(metadata["verified"])
            warnings = json.loads(metadata.get("warnings", "[]"))
            module_px = float(metadata["module-px"])
        except (KeyError, ValueError):
            return None
        if verified not in (True, False, None) or not isinstance(warnings, list):
            return None
        return cls(verified, module_px, tuple(str(w) for w in warnings))


def decodes(symbology: Symbology, content: str, image: Image) -> bool | None:
    """Whether `image` reads back as `content` (None: this type is not readable here).

    Pass the upright symbol (`render.Drawing.symbol`): a quarter turn is lossless and
    scanners read every direction, but zxing-cpp reads some 2D types upright only; the
    rest of the canvas is background (more quiet zone).
    """
    if symbology.read is None:
        return None
    grey = image if image.mode == "L" else image.convert("L")  # palette: bg colour, not alpha
    return _reads(symbology.read, content, grey)


def drawing_decodes(symbology: Symbology, content: str, drawing: render.Drawing) -> bool | None:
    """`decodes(symbology, content, drawing.symbol)`, read from zint's bitmap itself.

    The same pixels without a Pillow image: black on white, zxing-cpp reads one channel
    of the bitmap in place; in colour, the bitmap's two levels become the grey levels
    of fg and bg (what `decodes` sees of the palette image).

    A 1D symbol (`Symbology.stretch`) is first read from its middle row alone. That is
    the very input zxing-cpp's pure 1D reader takes from the whole symbol: it binarises
    each row on its own (a histogram of that row) and, when pure, reads the middle row
    (`height / 2`) only; only its DataBar readers pair rows (they read the whole
    symbol). So the row reading back means the symbol reads back; if it does not, the
    whole symbol is read exactly as `decodes` reads it, and the answer is that one.
    """
    read = symbology.read
    if read is None:
        return None
    raster = drawing.raster
    one_row = symbology.stretch and not read.format.startswith("DataBar")
    if one_row and _reads(read, content, _lum(drawing, raster.height // 2, 1), pure=True):
        return True
    return _reads(read, content, _lum(drawing, 0, raster.height))


def _lum(drawing: render.Drawing, first: int, count: int) -> Any:
    """`count` rows of the symbol from `first`, as a zxing-cpp grey image view."""
    import zxingcpp  # noqa: PLC0415 - lazy, see module docstring

    raster, style = drawing.raster, drawing.style
    if style.plain:
        # A view into the drawing's own bytes (an ImageView does not keep its buffer
        # alive: the drawing does, for as long as it is read).
        stride = raster.stride
        rows = memoryview(raster.data)[first * stride : (first + count) * stride]
        return zxingcpp.ImageView(rows, raster.width, count, zxingcpp.ImageFormat.Lum, stride, 3)
    grey = raster.grey_rows(first, count).translate(_grey_levels(style.fg, style.bg or "FFFFFF"))
    return memoryview(grey).cast("B", (count, raster.width))  # the view owns its bytes


@lru_cache(maxsize=64)
def _grey_levels(fg: str, bg: str) -> bytes:
    """A translate table: bitmap 0 (bars) -> grey of fg, 255 (space) -> grey of bg, as
    Pillow converts the two-colour palette image to grey."""
    from PIL import Image  # noqa: PLC0415

    pair = Image.new("P", (2, 1))
    pair.putdata([0, 1])
    pair.putpalette([*render.rgb(fg), *render.rgb(bg)])
    dark, light = pair.convert("L").tobytes()
    return bytes([dark] * 128 + [light] * 128)


def _reads(read: ReadBack, content: str, grey: Any, *, pure: bool | None = None) -> bool:
    """Whether zxing-cpp reads `grey` as `content`: only the type's own format, at the
    resolution drawn, nothing turned or inverted (as a scanner sees the render)."""
    import zxingcpp  # noqa: PLC0415

    formats = getattr(zxingcpp.BarcodeFormat, read.format)
    # A generated image is "pure" (nothing but the symbol, aligned): zxing-cpp reads it
    # ~20x faster so. Only if that fails does the general reader get its chance.
    for is_pure in (True, False) if pure is None else (pure,):
        found = zxingcpp.read_barcodes(
            grey,
            formats=formats,
            try_rotate=False,
            try_downscale=False,
            try_invert=False,
            is_pure=is_pure,
        )
        if any(read.matches(content, barcode.text) for barcode in found):
            return True
    return False


def upstream_png(request: BarcodeRequest, body: bytes) -> bytes | None:
    """An image the upstream drew for `request`, as PNG bytes, when it decodes back to
    the content; None when it is not an image, is too large, or does not read back.

    Only a read-back counts: for a type no decoder here reads, None too (the caller
    renders locally; an upstream image that nothing checked is never served as bytes).
    A PNG is kept as it came; another format is written as a PNG of the same pixels.
    """
    if request.symbology.read is None:
        return None
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - lazy, see module docstring

    try:
        image = Image.open(io.BytesIO(body))
        if image.width * image.height > MAX_DIMENSION * MAX_DIMENSION:
            return None
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None
    if not decodes(request.symbology, request.content, image):
        return None
    if image.format == "PNG":
        return body
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


VERIFY_SEARCH_MAX_PX = 12
"""On a failed read-back, module sizes up to this are tried to name a size that works."""


@dataclass(frozen=True)
class LocalRender:
    """Image bytes that were decoded back (or of a type no decoder here reads)."""

    body: bytes
    facts: RenderFacts


def _draw_and_read(request: BarcodeRequest, width: int, height: int) -> tuple[Any, bool | None]:
    drawing = render.draw(
        request.symbology, request.content, width, height, request.show_text, style=request.style
    )
    return drawing, drawing_decodes(request.symbology, request.content, drawing)


def render_verified(request: BarcodeRequest) -> LocalRender:
    """Render `request` locally and decode it back; Unscannable when it does not read."""
    if request.format in VECTOR_FORMATS:
        # Lazy: the PDF/EPS path (and reportlab, in the print layer) only for print requests.
        from .printed import render_printed  # noqa: PLC0415

        return render_printed(request)
    symbology, content, style = request.symbology, request.content, request.style
    drawing, verified = _draw_and_read(request, request.width, request.height)
    if verified is False:
        count("RenderNotVerified")
        raise _unscannable(request, drawing.module_px)
    if request.format == "svg":
        # The SVG is the same symbol as vectors; its raster twin at this size was read.
        vectors = svg.render_svg_drawing(
            symbology,
            content,
            request.width,
            request.height,
            request.show_text,
            style=style,
            physical=request.physical,
        )
        body, module_px = vectors.body, vectors.module_px
    else:
        body, module_px = png.png_bytes(drawing, request.dpi), float(drawing.module_px)
    return LocalRender(body, RenderFacts(verified, module_px, _warnings(request, module_px)))


def _size_at(request: BarcodeRequest, k: int) -> tuple[int, int]:
    return render.size_at(
        request.symbology, request.content, request.show_text, k, style=request.style
    )


def _warnings(request: BarcodeRequest, module_px: float) -> tuple[str, ...]:
    if module_px >= 2:
        return ()
    w2, h2 = _size_at(request, 2)
    if request.symbology.stretch:
        size = f"{h2} px high" if request.style.sideways else f"{w2} px wide"
    else:
        size = f"{w2} x {h2} px"
    return (f"{module_px:g} px per module may not scan once scaled; {size} gives 2 px per module",)


def _unscannable(request: BarcodeRequest, k: int) -> Unscannable:
    """The 422 for a render that did not read back, naming the least size that does."""
    title, asked = request.symbology.title, f"{request.width} x {request.height} px"
    for bigger in range(k + 1, VERIFY_SEARCH_MAX_PX + 1):
        w, h = _size_at(request, bigger)
        w, h = max(w, request.width), max(h, request.height)
        if w > MAX_DIMENSION or h > MAX_DIMENSION:
            break
        if _draw_and_read(request, w, h)[1]:
            detail = (
                f"{title} at {asked} ({k} px per module) does not decode back; "
                f"{w} x {h} px ({bigger} px per module) does"
            )
            reason = f"at least {w} x {h} px scans"
            return Unscannable(
                detail,
                invalid_params=[InvalidParam("width", reason), InvalidParam("height", reason)],
            )
    hint = "turn quiet_zone on" if not request.style.quiet_zone else "use more contrast (fg/bg)"
    return Unscannable(
        f"{title} at {asked} does not decode back, nor at any larger size up to "
        f"{VERIFY_SEARCH_MAX_PX} px per module: {hint}",
        field="quiet_zone" if not request.style.quiet_zone else "fg",
    )
