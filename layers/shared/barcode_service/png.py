"""PNG files of raster renders (render.Drawing): 1-bit grey or a two-colour palette, the
DPI in `pHYs`.

An upright drawing is written straight from zint's bitmap rows, without Pillow: each
run of identical rows is packed to bits once and repeated (packing every pixel of the
canvas was most of a render's time); a turned drawing goes through Pillow. Both give
the same pixels (tests/unit/test_render_equivalence.py).
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import TYPE_CHECKING, Any

from .render import PLAIN, Drawing, Style, draw, rgb
from .symbologies import Symbology

if TYPE_CHECKING:
    from PIL.Image import Image

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
        chunks.append((b"PLTE", bytes((*rgb(style.fg), *rgb(style.bg or "FFFFFF")))))
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
