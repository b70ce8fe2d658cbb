"""EPS files of one placed symbol, written from zint's vector model.

Written here rather than by a library: zint's own EPS is the symbol alone with an
integer `%%BoundingBox` (40 mm comes out as 113 pt, 39.9 mm), and reportlab's EPS
(reportlab.graphics.renderPS) truncates its box the same way. This file is the exact
canvas asked for, with `%%HiResBoundingBox` in points, the symbol placed on it as the
PDF places it (`vector.Placement.matrix`), and text in Helvetica re-encoded to
ISO Latin-1 (what zint's human-readable text can hold). A transparent background is
simply not painted: EPS has no alpha, but what an EPS leaves unpainted shows what is
behind it where it is placed.
"""

from __future__ import annotations

import math

from .pdf import fitted_text
from .render import Style
from .vector import Placement, rgb
from .vector import number as _n

_PROLOG = """/R { rectfill } bind def
/Helvetica findfont dup length dict begin
  { 1 index /FID ne { def } { pop pop } ifelse } forall
  /Encoding ISOLatin1Encoding def
  currentdict
end
/Helvetica-Latin1 exch definefont pop
"""


def _string(text: str) -> str:
    """A PostScript string literal of Latin-1 text (octal escapes past ASCII)."""
    out = []
    for char in text:
        code = ord(char)
        if char in "()\\":
            out.append("\\" + char)
        elif 32 <= code < 127:
            out.append(char)
        else:
            out.append(f"\\{code & 0xFF:03o}")
    return "(" + "".join(out) + ")"


def eps_bytes(placement: Placement, width_pt: float, height_pt: float, style: Style) -> bytes:
    """An EPS of exactly `width_pt` x `height_pt` with the placed symbol on it."""
    symbol = placement.symbol
    lines = [
        "%!PS-Adobe-3.0 EPSF-3.0",
        "%%Creator: barcode-backend (zint vector model)",
        f"%%BoundingBox: 0 0 {math.ceil(width_pt)} {math.ceil(height_pt)}",
        f"%%HiResBoundingBox: 0 0 {_n(width_pt)} {_n(height_pt)}",
        "%%LanguageLevel: 2",
        "%%Pages: 1",
        "%%EndComments",
        "%%BeginProlog",
        _PROLOG.rstrip(),
        "%%EndProlog",
        "%%Page: 1 1",
        "gsave",
    ]
    if style.bg is not None:
        lines += [f"{_rgb(style.bg)} setrgbcolor", f"0 0 {_n(width_pt)} {_n(height_pt)} R"]
    lines += [
        f"[{' '.join(_n(v) for v in placement.matrix(height_pt))}] concat",
        f"{_rgb(style.fg)} setrgbcolor",
    ]
    lines += [f"{rect} R" for rect in symbol.bars]
    # Ultracode's coloured tiles
    lines += [
        f"gsave {_rgb(colour)} setrgbcolor {rect} R grestore" for colour, rect in symbol.tiles
    ]
    for h in symbol.hexagons:
        lines.append(_hexagon(h.x, h.y, h.diameter / 2))
    for c in symbol.circles:
        arc = f"newpath {_n(c.x)} {_n(c.y)} {_n(c.diameter / 2)} 0 360 arc closepath"
        lines.append(f"{arc} {_n(c.ring)} setlinewidth stroke" if c.ring else f"{arc} fill")
    for t in symbol.texts:
        left, size = fitted_text(t)
        lines.append(
            f"/Helvetica-Latin1 findfont {_n(size)} scalefont setfont "
            f"gsave {_n(left)} {_n(t.y)} translate 1 -1 scale 0 0 moveto "
            f"{_string(t.text)} show grestore"
        )
    lines += ["grestore", "showpage", "%%EOF", ""]
    return "\n".join(lines).encode("latin-1")


def _rgb(colour: str) -> str:
    return " ".join(_n(round(channel, 4)) for channel in rgb(colour))


def _hexagon(x: float, y: float, radius: float) -> str:
    points = []
    for i in range(6):
        angle = math.radians(90 + 60 * i)
        points.append((x + radius * math.cos(angle), y - radius * math.sin(angle)))
    moves = " ".join(
        f"{_n(px)} {_n(py)} {'moveto' if i == 0 else 'lineto'}" for i, (px, py) in enumerate(points)
    )
    return f"newpath {moves} closepath fill"
