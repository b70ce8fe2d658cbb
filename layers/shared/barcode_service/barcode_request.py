"""A barcode request: every generate parameter validated and normalised, and its digest.

`parse_request` turns raw parameters (query string, JSON, form or multipart fields,
or the keyless image path) into a `BarcodeRequest`, or raises one InvalidParameter
whose `invalid_params` names every field that is wrong. The digest of the normalised
request is the content address of its image: the URL-cache item, the S3 object and
the ETag are all named by it, so a repeated request never renders twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from . import render
from .errors import InvalidParam, InvalidParameter, ServiceError, refuse_nulls
from .render import PLAIN, Style
from .symbologies import Symbology, find_symbology, validate_content
from .text_input import require_valid_text

MIN_DIMENSION = 32
MAX_DIMENSION = 4000
FORMATS = ("png", "svg", "pdf", "eps")
ImageFormat = Literal["png", "svg", "pdf", "eps"]
VECTOR_FORMATS = ("pdf", "eps")
"""Printed at a physical size (unit mm or in), drawn from zint's vector model (printed.py)."""
ACCEPTED_FORMATS = {
    "image/png": "png",
    "image/svg+xml": "svg",
    "application/pdf": "pdf",
    "application/postscript": "eps",
}
"""A first Accept type that asks for the file itself (response=image) in this format."""
Unit = Literal["px", "mm", "in"]
UNITS: tuple[Unit, ...] = ("px", "mm", "in")
ResponseMode = Literal["json", "image", "redirect"]
RESPONSE_MODES: tuple[ResponseMode, ...] = ("json", "image", "redirect")

DEFAULT_DPI = 300
MIN_DPI, MAX_DPI = 72, 2400
MM_PER_INCH = 25.4
MIN_CONTRAST = 3.0
"""Least contrast ratio (WCAG formula) of background to bars: below it, readers fail."""

PARAMETERS = (
    "type",
    "content",
    "width",
    "height",
    "format",
    "show_text",
    "unit",
    "dpi",
    "fg",
    "bg",
    "rotate",
    "quiet_zone",
)
"""Every parameter a barcode request has; `GET`/`POST /barcodes` add `response`."""

RENDER_VERSION = 2
"""Part of the digest: bump when the same request would draw different bytes."""

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")
_COLOUR = re.compile(r"#?([0-9A-Fa-f]{6})")
_NUMBER = re.compile(r"\d{1,5}(?:\.\d{1,3})?")


def content_digest(fields: Mapping[str, Any]) -> str:
    """sha256 of a normalised request's fields (canonical JSON): what names its file."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BarcodeRequest:
    """A validated request: content already normalised for its type, sizes in pixels."""

    symbology: Symbology
    content: str
    width: int
    height: int
    format: ImageFormat = "png"
    show_text: bool = False
    style: Style = PLAIN
    dpi: int | None = None  # written into the PNG (pHYs); set by unit mm/in or dpi
    physical: tuple[str, str] | None = None  # SVG/PDF/EPS size with a unit, e.g. ("40mm", ..)

    @property
    def digest(self) -> str:
        """sha256 of the normalised request: the cache key, S3 object name and ETag."""
        return content_digest(
            {
                "v": RENDER_VERSION,
                "type": self.symbology.name,
                "content": self.content,
                "width": self.width,
                "height": self.height,
                "format": self.format,
                "show_text": self.show_text,
                "fg": self.style.fg,
                "bg": self.style.bg,
                "rotate": self.style.rotate,
                "quiet_zone": self.style.quiet_zone,
                "dpi": self.dpi,
                "physical": self.physical,
            }
        )

    @property
    def etag(self) -> str:
        """Strong ETag of the image bytes (the same digest always draws the same bytes)."""
        return f'"{self.digest}"'

    @property
    def points(self) -> tuple[float, float]:
        """The physical (width, height) in PostScript points (PDF, EPS)."""
        if self.physical is None:
            raise ValueError("a request in pixels has no physical size")
        return _points(self.physical[0]), _points(self.physical[1])

    @property
    def plain(self) -> bool:
        """Nothing the upstream cannot draw: black on white, upright, quiet zones, no DPI."""
        return self.style == PLAIN and self.dpi is None


# --- single parameters -------------------------------------------------------------------


def _text_param(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameter(f"parameter {name!r} is required", field=name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidParameter(f"parameter {name!r} must be a string", field=name)
    return str(value)


def _choice(params: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text not in choices:
        shown = " or ".join(repr(c) for c in choices)
        raise InvalidParameter(f"{name} must be {shown}; got {value!r}", field=name)
    return text


def _flag(params: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameter(f"{name} must be true or false; got {value!r}", field=name)


def _pixels(params: Mapping[str, Any], name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise InvalidParameter(
            f"parameter {name!r} is required: an integer from {MIN_DIMENSION} to {MAX_DIMENSION}",
            field=name,
        )
    number = _whole(value)
    if number is None or not MIN_DIMENSION <= number <= MAX_DIMENSION:
        raise InvalidParameter(
            f"{name} must be an integer from {MIN_DIMENSION} to {MAX_DIMENSION} (pixels); "
            f"got {value!r}",
            field=name,
        )
    return number


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    # int() refuses > 4300 digits; no size needs 10
    if len(text) <= 9 and text.isascii() and text.isdigit():
        return int(text)
    return None


def _length(params: Mapping[str, Any], name: str, unit: Unit, dpi: int) -> tuple[int, str]:
    """A width/height in mm or inches: (pixels at dpi, the length as written)."""
    value = params.get(name)
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    if isinstance(value, bool) or not _NUMBER.fullmatch(text) or float(text) <= 0:
        raise InvalidParameter(
            f"{name} must be a positive number of {unit} (up to 3 decimals); got {value!r}",
            field=name,
        )
    length = float(text)
    inches = length / MM_PER_INCH if unit == "mm" else length
    pixels = round(inches * dpi)
    if not MIN_DIMENSION <= pixels <= MAX_DIMENSION:
        raise InvalidParameter(
            f"{name} {text} {unit} at {dpi} dpi is {pixels} px; it must come to "
            f"{MIN_DIMENSION}..{MAX_DIMENSION} px (change the size or the dpi)",
            field=name,
        )
    return pixels, f"{float(text):g}{unit}"


def _points(length: str) -> float:
    """A length as `_length` writes it ("40mm", "1.5in") in points (1/72 in)."""
    inches = float(length[:-2]) / (MM_PER_INCH if length.endswith("mm") else 1)
    return inches * 72


def _vector_unit(image_format: str, unit: Unit) -> None:
    if image_format in VECTOR_FORMATS and unit == "px":
        raise InvalidParameter(
            f"format {image_format} is printed at a physical size: give unit mm or in "
            "(with width and height in it, and dpi for the printer, default 300)",
            field="unit",
        )


def _dpi(params: Mapping[str, Any], unit: Unit) -> int | None:
    value = params.get("dpi")
    if value is None or value == "":
        return DEFAULT_DPI if unit != "px" else None
    number = _whole(value)
    if number is None or not MIN_DPI <= number <= MAX_DPI:
        raise InvalidParameter(
            f"dpi must be an integer from {MIN_DPI} to {MAX_DPI}; got {value!r}", field="dpi"
        )
    return number


def _colour(params: Mapping[str, Any], name: str, default: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    text = str(value).strip()
    if name == "bg" and text.lower() == "transparent":
        return None
    match = _COLOUR.fullmatch(text)
    if match is None:
        also = " or transparent" if name == "bg" else ""
        raise InvalidParameter(
            f"{name} must be a colour as RRGGBB hex (e.g. 1A2B3C){also}; got {value!r}",
            field=name,
        )
    return match.group(1).upper()


def _luminance(colour: str) -> float:
    """Relative luminance (WCAG 2) of an RRGGBB colour."""
    channels = []
    for i in (0, 2, 4):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _check_contrast(fg: str, bg: str | None) -> None:
    paper = bg or "FFFFFF"  # a transparent background is read against white paper
    dark, light = _luminance(fg), _luminance(paper)
    ratio = (light + 0.05) / (dark + 0.05)
    if ratio < MIN_CONTRAST:
        where = "the white page behind a transparent background" if bg is None else f"bg {paper}"
        lighter = " (light bars on a dark ground do not scan on most readers)"
        lighter = lighter if dark > light else ""
        raise InvalidParameter(
            f"fg {fg} on {where} has a contrast of {ratio:.1f}:1; barcodes need dark bars on "
            f"a light background with at least {MIN_CONTRAST:g}:1{lighter}",
            invalid_params=[
                InvalidParam("fg", f"too little contrast with the background ({ratio:.1f}:1)"),
                InvalidParam("bg", f"too little contrast with the bars ({ratio:.1f}:1)"),
            ],
        )


def _rotate(params: Mapping[str, Any]) -> int:
    value = params.get("rotate")
    if value is None or value == "":
        return 0
    number = _whole(value)
    if number not in (0, 90, 180, 270):
        raise InvalidParameter(f"rotate must be 0, 90, 180 or 270; got {value!r}", field="rotate")
    return number


# --- the whole request -----------------------------------------------------------------------


class _Fields:
    """Collects field errors so that one answer names every wrong parameter."""

    def __init__(self) -> None:
        self.errors: list[InvalidParam] = []
        self.first: InvalidParameter | None = None

    def take(self, read: Callable[[], Any], fallback: Any = None) -> Any:
        try:
            return read()
        except InvalidParameter as error:
            self.first = self.first or error
            self.errors.extend(error.invalid_params)
            return fallback

    def raise_any(self) -> None:
        if self.first is None:
            return
        if len(self.errors) <= 1:
            raise self.first
        names = ", ".join(dict.fromkeys(p.name for p in self.errors))
        raise InvalidParameter(
            f"invalid parameters: {names}; see invalid_params", invalid_params=self.errors
        )


def parse_request(params: Mapping[str, Any]) -> BarcodeRequest:
    """Validate raw parameters into a request, or raise a 400 naming every bad field."""
    require_valid_text(dict(params))  # zint and the answers need valid Unicode
    refuse_nulls(params)
    fields = _Fields()
    try:
        symbology = find_symbology(_text_param(params, "type"))
    except ServiceError as error:
        raise error.about("type") from None
    content = fields.take(
        lambda: _content(symbology, _text_param(params, "content")),
    )
    image_format = cast(
        ImageFormat, fields.take(lambda: _choice(params, "format", FORMATS, "png"), "png")
    )
    show_text = fields.take(lambda: _flag(params, "show_text"), False)
    unit = cast(Unit, fields.take(lambda: _choice(params, "unit", UNITS, "px"), "px"))
    fields.take(lambda: _vector_unit(image_format, unit))
    dpi = fields.take(lambda: _dpi(params, unit), DEFAULT_DPI)
    physical: tuple[str, str] | None = None
    if unit == "px":
        width = fields.take(lambda: _pixels(params, "width"))
        height = fields.take(lambda: _pixels(params, "height"))
    else:
        width, shown_w = fields.take(lambda: _length(params, "width", unit, dpi), (None, ""))
        height, shown_h = fields.take(lambda: _length(params, "height", unit, dpi), (None, ""))
        physical = (shown_w, shown_h)
    fg = fields.take(lambda: _colour(params, "fg", "000000"), "000000")
    bg = fields.take(lambda: _colour(params, "bg", "FFFFFF"), "FFFFFF")
    rotate = fields.take(lambda: _rotate(params), 0)
    quiet_zone = fields.take(lambda: _flag(params, "quiet_zone", default=True), True)
    fields.raise_any()
    _check_contrast(fg, bg)
    style = Style(fg=fg, bg=bg, rotate=rotate, quiet_zone=quiet_zone)
    if image_format not in VECTOR_FORMATS:
        # zint measures the real symbol: too-small sizes are refused before any backend
        # runs. A printed size is checked in printer dots and mm where it is drawn
        # (printed.py), always locally.
        render.check_size(symbology, content, show_text, width, height, style=style)
    return BarcodeRequest(
        symbology,
        content,
        width,
        height,
        image_format,
        show_text,
        style,
        dpi,
        physical if image_format != "png" else None,
    )


def _content(symbology: Symbology, raw: str) -> str:
    try:
        return validate_content(symbology, raw)
    except ServiceError as error:
        raise error.about("content") from None


def response_mode(params: Mapping[str, Any], accept: str | None) -> ResponseMode:
    """`response` as asked, else `image` when the first Accept type is an image type."""
    value = params.get("response")
    if value not in (None, ""):
        return cast(ResponseMode, _choice(params, "response", RESPONSE_MODES, "json"))
    return "image" if first_type(accept) in ACCEPTED_FORMATS else "json"


def accepted_format(params: Mapping[str, Any], accept: str | None) -> dict[str, Any]:
    """`params` with `format` taken from an image Accept type when none was given."""
    if params.get("format") not in (None, ""):
        return dict(params)
    accepted = ACCEPTED_FORMATS.get(first_type(accept), "png")
    return {**params, "format": accepted} if accepted != "png" else dict(params)


def first_type(accept: str | None) -> str:
    """The first media type of an Accept header, lower case, without parameters."""
    return (accept or "").split(",", 1)[0].split(";", 1)[0].strip().lower()
