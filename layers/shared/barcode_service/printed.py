"""One barcode as a PDF or EPS of its exact physical size, verified at the print DPI.

The canvas is exactly the width x height asked (mm or inches, in points); the symbol
is zint's vector model at the largest whole number of printer dots per module that
fits (`vector.fit`), centred at whole-dot offsets, turned and coloured as asked. Its
bitmap (the same zint symbol at one unit per dot) is decoded back first: a file that
would not scan once printed at that DPI is never returned.
"""

from __future__ import annotations

from .barcode_request import DEFAULT_DPI, BarcodeRequest
from .eps import eps_bytes
from .errors import InvalidParam, InvalidParameter, Unscannable
from .observability import count
from .pdf import PdfWriter
from .vector import FittedSymbol, Placement, SymbolSpec, centred, fit
from .verify import LocalRender, RenderFacts, drawing_decodes
from .xdimension import LEAST_DOTS, least_dots, least_mm, module_mm

POINTS_PER_INCH = 72.0


def render_printed(request: BarcodeRequest) -> LocalRender:
    """The PDF or EPS of `request` (format pdf/eps, unit mm/in), decoded back first."""
    dpi = request.dpi or DEFAULT_DPI
    width_pt, height_pt = request.points
    canvas = (width_pt / POINTS_PER_INCH * dpi, height_pt / POINTS_PER_INCH * dpi)
    style = request.style
    upright = (canvas[1], canvas[0]) if style.sideways else canvas
    spec = SymbolSpec(request.symbology, request.content, request.show_text, style.quiet_zone)
    try:
        symbol = fit(spec, upright)
    except InvalidParameter:
        raise _too_small(request, dpi) from None
    verified = drawing_decodes(request.symbology, request.content, symbol.drawing(style))
    if verified is False:
        count("RenderNotVerified")
        raise _unscannable(request, symbol, dpi)
    placement = centred(symbol, canvas, style.rotate, dpi)
    if request.format == "eps":
        body = eps_bytes(placement, width_pt, height_pt, style)
    else:
        body = _pdf(request, placement, width_pt, height_pt)
    warnings = _warnings(request, symbol, dpi)
    return LocalRender(body, RenderFacts(verified, float(symbol.dots_per_module), warnings))


def _pdf(request: BarcodeRequest, placement: Placement, width_pt: float, height_pt: float) -> bytes:
    writer = PdfWriter(f"{request.symbology.title} {request.content}"[:200])
    writer.page(width_pt, height_pt)
    if request.style.bg is not None:
        writer.fill(request.style.bg, 0, 0, width_pt, height_pt)
    writer.symbol(placement, request.style)
    return writer.finish()


def _size(request: BarcodeRequest) -> str:
    assert request.physical is not None  # pdf/eps requests carry their size
    return f"{request.physical[0]} x {request.physical[1]}"


def _least_size(request: BarcodeRequest, dots: int, dpi: int) -> str:
    """The size in mm that holds the symbol at `dots` per module (upright or turned)."""
    spec = SymbolSpec(request.symbology, request.content, request.show_text)
    w, h = spec.modules()
    if request.style.sideways:
        w, h = h, w
    mm = module_mm(dots, dpi)
    return f"{w * mm:.1f} x {h * mm:.1f} mm"


def _too_small(request: BarcodeRequest, dpi: int) -> InvalidParameter:
    least = 2 if request.show_text else 1
    needed = _least_size(request, least, dpi)
    reason = f"at least {needed} at {dpi} dpi"
    return InvalidParameter(
        f"{request.symbology.title} with this content needs at least {needed} at {dpi} dpi "
        f"({least} printer dot{'s' if least > 1 else ''} per module); got {_size(request)}: "
        "increase width/height, raise the dpi or shorten the content",
        invalid_params=[InvalidParam("width", reason), InvalidParam("height", reason)],
    )


def _unscannable(request: BarcodeRequest, symbol: FittedSymbol, dpi: int) -> Unscannable:
    k = symbol.dots_per_module
    needed = _least_size(request, k + 1, dpi)
    return Unscannable(
        f"{request.symbology.title} at {_size(request)} ({k} dots per module at {dpi} dpi) "
        f"does not decode back; try {needed} or more, or a higher dpi",
        invalid_params=[
            InvalidParam("width", f"try {needed}"),
            InvalidParam("height", f"try {needed}"),
        ],
    )


def _warnings(request: BarcodeRequest, symbol: FittedSymbol, dpi: int) -> tuple[str, ...]:
    k, least = symbol.dots_per_module, least_dots(request.symbology, dpi)
    if k >= least:
        return ()
    title, floor = request.symbology.title, least_mm(request.symbology)
    return (
        f"modules are {module_mm(k, dpi):.3f} mm ({k} dots at {dpi} dpi), below the "
        f"{floor:g} mm and {LEAST_DOTS} dots a printed {title} should have; "
        f"{_least_size(request, least, dpi)} gives {least} dots per module",
    )
