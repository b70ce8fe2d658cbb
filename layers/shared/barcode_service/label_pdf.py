"""A label-sheet request drawn as one PDF: every barcode fitted, checked and read back.

Each label's inner box is the label less `PADDING_MM` on every side. Its text lines
(Helvetica at `text_size_pt`, centred) sit at the bottom of it; the barcode gets the
rest, at the largest whole number of printer dots per module that fits (1D bars as
tall as the room allows), centred across, at the top. Before anything is drawn:
- a line wider than the label is a 400 naming the label, the line, how many of its
  characters fit and the text size at which it would;
- a barcode whose module would be below its type's least size at the DPI
  (`xdimension`), or whose bars would be shorter than `LEAST_BAR_MM`, is a 400 naming
  the label and the room it needs;
- every distinct barcode is decoded back from its own dots at the print DPI; one that
  does not read is a 422 naming the label.
Labels are placed from position `start_at` on, across then down, page after page,
shifted by `offset_mm`, each barcode on whole printer dots from the page's corner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InvalidParam, InvalidParameter, Unscannable
from .labels import Label, LabelsRequest
from .observability import count
from .pdf import PdfWriter, text_width
from .render import Style
from .vector import FittedSymbol, Placement, SymbolSpec, fit, mm_to_dots
from .verify import drawing_decodes
from .xdimension import least_dots, module_mm, most_dots

PADDING_MM = 1.5
TEXT_GAP_MM = 1.0  # between the barcode and the first line
LINE_HEIGHT = 1.2  # of the text size
BASELINE = 0.95  # of the text size, below the top of a line's box
LEAST_BAR_MM = 6.35
"""Shortest 1D bars on a label: a quarter inch, what a handheld scanner's line needs to
find the symbol at a slant."""
MM_PER_POINT = 25.4 / 72
PLAIN = Style()


@dataclass(frozen=True)
class LabelSheetPdf:
    body: bytes
    pages: int
    labels: int


@dataclass(frozen=True)
class LaidOut:
    """One label of the request, fitted: its symbol and where its parts go inside it."""

    symbol: FittedSymbol
    barcode_top_mm: float  # from the label's top
    text_top_mm: float


def lay_out(request: LabelsRequest) -> list[LaidOut]:
    """Every label of `request` fitted and read back (one per label, copies aside), or
    the 400/422 naming the first label that cannot be printed."""
    laid: list[LaidOut] = []
    fitted: dict[tuple[SymbolSpec, float, float], FittedSymbol] = {}
    for index, label in enumerate(request.labels):
        _check_lines(request, index, label)
        laid.append(_lay_out(request, index, label, fitted))
    return laid


def render_labels(request: LabelsRequest) -> LabelSheetPdf:
    """The PDF of `request`, or the 400/422 naming the first label that cannot be printed."""
    laid = lay_out(request)
    writer = PdfWriter(f"{request.count} labels, {request.sheet.name}")
    page = -1
    slot = request.start_at - 1
    for index, label in enumerate(request.labels):
        for _ in range(label.copies):
            if slot // request.sheet.per_page != page:
                page = slot // request.sheet.per_page
                writer.page(*(side / MM_PER_POINT for side in request.sheet.page))
            _draw(writer, request, slot % request.sheet.per_page, label, laid[index])
            slot += 1
    count("LabelSheetRendered")
    return LabelSheetPdf(writer.finish(), request.pages, request.count)


def _inner(request: LabelsRequest) -> tuple[float, float]:
    sheet = request.sheet
    return sheet.label_width - 2 * PADDING_MM, sheet.label_height - 2 * PADDING_MM


def _text_height(request: LabelsRequest, lines: int) -> float:
    """mm the text lines take, with the gap above them (0 without lines)."""
    if not lines:
        return 0.0
    return TEXT_GAP_MM + lines * LINE_HEIGHT * request.text_size_pt * MM_PER_POINT


def _check_lines(request: LabelsRequest, index: int, label: Label) -> None:
    room, size = _inner(request)[0], request.text_size_pt
    for number, line in enumerate(label.lines):
        width = text_width(line, size) * MM_PER_POINT
        if width <= room:
            continue
        fits = len(line)
        while fits and text_width(line[:fits], size) * MM_PER_POINT > room:
            fits -= 1
        smaller = math.floor(size * room / width * 2) / 2
        field = f"labels[{index}].lines[{number}]"
        detail = (
            f"label {index}: line {number} is {width:.1f} mm wide at {size:g} pt and the label "
            f"holds {room:.1f} mm of text: its first {fits} characters fit "
            f"({line[:fits]!r})"
            + (f", or all of it at text_size_pt {smaller:g}" if smaller >= 4 else "")
        )
        raise InvalidParameter(detail, invalid_params=[InvalidParam(field, detail)])


def _lay_out(
    request: LabelsRequest,
    index: int,
    label: Label,
    fitted: dict[tuple[SymbolSpec, float, float], FittedSymbol],
) -> LaidOut:
    inner_w, inner_h = _inner(request)
    text_h = _text_height(request, len(label.lines))
    box_mm = (inner_w, inner_h - text_h)
    spec = SymbolSpec(label.symbology, label.content, label.show_text)
    key = (spec, *box_mm)
    if key not in fitted:
        fitted[key] = _fit(request, index, label, spec, box_mm)
    symbol = fitted[key]
    # A 2D symbol smaller than its room is centred in it; 1D bars fill it.
    spare = box_mm[1] - symbol.height * 25.4 / request.dpi
    text_top = PADDING_MM + inner_h - text_h + (TEXT_GAP_MM if text_h else 0)
    return LaidOut(symbol, PADDING_MM + max(spare, 0) / 2, text_top)


def _fit(
    request: LabelsRequest,
    index: int,
    label: Label,
    spec: SymbolSpec,
    box_mm: tuple[float, float],
) -> FittedSymbol:
    dpi, least = request.dpi, least_dots(label.symbology, request.dpi)
    box = (mm_to_dots(box_mm[0], dpi), mm_to_dots(max(box_mm[1], 0), dpi))
    least_bar = mm_to_dots(LEAST_BAR_MM, dpi) if label.symbology.stretch else 0.0
    try:
        most = most_dots(label.symbology, dpi)
        symbol = fit(spec, box, least_k=least, most_k=most, least_bar_dots=least_bar)
    except InvalidParameter:
        raise _does_not_fit(request, index, label, spec, box_mm) from None
    verified = drawing_decodes(label.symbology, label.content, symbol.drawing(PLAIN))
    if verified is False:
        count("RenderNotVerified")
        field = f"labels[{index}].content"
        detail = (
            f"label {index}: {label.symbology.title} at {symbol.dots_per_module} dots per module "
            f"({module_mm(symbol.dots_per_module, dpi):.3f} mm at {dpi} dpi) does not decode "
            "back: use a larger label, fewer lines or a higher dpi"
        )
        raise Unscannable(detail, invalid_params=[InvalidParam(field, detail)])
    return symbol.shapes_only()


def _does_not_fit(
    request: LabelsRequest,
    index: int,
    label: Label,
    spec: SymbolSpec,
    box_mm: tuple[float, float],
) -> InvalidParameter:
    dpi, title = request.dpi, label.symbology.title
    k = max(least_dots(label.symbology, dpi), 2 if label.show_text else 1)
    w, h = spec.modules()
    x = module_mm(k, dpi)
    need_w = w * x
    need_h = max(h * x, LEAST_BAR_MM) if label.symbology.stretch else h * x
    inner_h = _inner(request)[1]
    hints = ["a larger label", "shorter content"]
    if label.lines and need_w <= box_mm[0] and need_h <= inner_h:
        room_lines = _lines_that_fit(request, need_h)
        hints.insert(0, f"at most {room_lines} line{'s' if room_lines != 1 else ''} of text")
    detail = (
        f"label {index}: {title} needs at least {need_w:.1f} x {need_h:.1f} mm ({k} dots per "
        f"module, {x:.3f} mm, the least for {title} at {dpi} dpi); the label leaves "
        f"{box_mm[0]:.1f} x {max(box_mm[1], 0):.1f} mm for it: use "
        f"{', '.join(hints[:-1])} or {hints[-1]}"
    )
    return InvalidParameter(detail, invalid_params=[InvalidParam(f"labels[{index}]", detail)])


def _lines_that_fit(request: LabelsRequest, barcode_mm: float) -> int:
    inner_h = _inner(request)[1]
    lines = 0
    while lines < 4 and barcode_mm + _text_height(request, lines + 1) <= inner_h:
        lines += 1
    return lines


def _draw(
    writer: PdfWriter, request: LabelsRequest, slot: int, label: Label, laid: LaidOut
) -> None:
    sheet, dpi = request.sheet, request.dpi
    x, y = sheet.position(slot)
    x, y = x + request.offset_mm[0], y + request.offset_mm[1]
    symbol = laid.symbol
    # Whole printer dots from the page's corner: every module lands on the dot grid.
    left = math.floor(mm_to_dots(x + sheet.label_width / 2, dpi) - symbol.width / 2)
    top = math.floor(mm_to_dots(y + laid.barcode_top_mm, dpi))
    writer.symbol(Placement(symbol, left, top, 0, dpi), PLAIN)
    size = request.text_size_pt
    line_box = LINE_HEIGHT * size * MM_PER_POINT
    for number, line in enumerate(label.lines):
        baseline = y + laid.text_top_mm + number * line_box + BASELINE * size * MM_PER_POINT
        width = text_width(line, size) * MM_PER_POINT
        left_mm = x + (sheet.label_width - width) / 2
        writer.text(line, left_mm / MM_PER_POINT, baseline / MM_PER_POINT, size)
