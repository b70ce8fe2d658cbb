"""SVG renders: zint's SVG of the symbol, sized to the request with a viewBox (1 unit per
module), optionally at a physical size so that it prints at it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .render import MIN_BAR_MODULES, PLAIN, Style, check_size, encode_symbol, unturned
from .symbologies import Symbology

_SVG_SIZE = re.compile(r'<svg width="([\d.]+)" height="([\d.]+)"')


@dataclass(frozen=True)
class SvgDrawing:
    body: bytes
    module_px: float  # pixels per module at the requested size (not whole: SVG scales)


def _svg(
    symbology: Symbology, content: str, show_text: bool, bar_height: float | None, style: Style
) -> tuple[str, float, float]:
    symbol = encode_symbol(
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
        _, w, h = _svg(symbology, content, show_text, MIN_BAR_MODULES, unturned(style))
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
