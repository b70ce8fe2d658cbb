"""Barcodes in photos: Pillow prepares the image, zxing-cpp reads it, GTINs come out.

Order, cheapest first: retail 1D symbols (EAN-13/8, UPC-A/E) on the upright, downscaled
image; then 2D and GS1 symbols (QR, Data Matrix, GS1-128, DataBar) whose content may be
a GS1 Digital Link, an element string or a plain GTIN; then the same on copies rotated
by +-45 and 90 degrees, which recovers tilted 1D codes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import EmptyUpload, UnreadableUpload

MAX_SIDE = 1600
ANGLES = (45, -45, 90)
_F = zxingcpp.BarcodeFormat
_RETAIL = [_F.EAN13, _F.EAN8, _F.UPCA, _F.UPCE]
_OTHERS = [_F.QRCode, _F.DataMatrix, _F.Code128, _F.DataBar, _F.DataBarExp]
RETAIL = zxingcpp.BarcodeFormats(_RETAIL)
OTHERS = zxingcpp.BarcodeFormats(_OTHERS)
EVERYTHING = zxingcpp.BarcodeFormats(_RETAIL + _OTHERS)
RETAIL_NAMES = {"EAN-13", "EAN-8", "UPC-A", "UPC-E"}
# Pillow may only parse the formats we accept, whatever the bytes claim to be.
PIL_FORMATS = ["JPEG", "PNG", "WEBP"]


@dataclass(frozen=True)
class DecodedCode:
    """One symbol found: its text, symbology, and the GTIN it carries (None: it holds none)."""

    text: str
    format: str
    gtin: str | None


def load_image(data: bytes) -> Image.Image:
    """An upright, greyscale image no larger than MAX_SIDE; UnreadableUpload if corrupt."""
    if not data:
        raise EmptyUpload("the image file is empty")
    try:
        opened = Image.open(io.BytesIO(data), formats=PIL_FORMATS)
        # JPEG can decode straight at 1/2..1/8 scale: a 12 MP photo loads in a fraction.
        opened.draft("RGB", (MAX_SIDE, MAX_SIDE))
        opened.load()
        image: Image.Image = ImageOps.exif_transpose(opened)
        transparent = image.mode == "P" and "transparency" in image.info
        if image.mode in ("RGBA", "LA", "PA") or transparent:
            # Transparent pixels often hold black: flatten onto white like a screen does.
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        image = image.convert("L")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    except Image.DecompressionBombError:
        raise UnreadableUpload("the image has too many pixels to process") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        detail = "it is not a JPEG, PNG or WebP image, or it is damaged"
        if isinstance(error, UnidentifiedImageError):
            detail = "it is not a JPEG, PNG or WebP image"
        raise UnreadableUpload(f"the image cannot be read: {detail}") from None
    return image


def gtin_in(text: str, symbology: str) -> str | None:
    """The GTIN a symbol's text carries: retail digits, a Digital Link, GS1 data, or digits."""
    value = text.strip()
    if symbology in RETAIL_NAMES:
        if symbology == "UPC-E" and len(value) == 8:
            return _expand_upce(value)
        return value
    digits = value.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) in (8, 12, 13, 14):
        return digits
    return _gs1_gtin(value)


def _expand_upce(value: str) -> str | None:
    from biip.upc import Upc  # noqa: PLC0415 - biip costs ~80 ms to import

    try:
        return str(Upc.parse(value).as_upc_a())
    except Exception:  # any biip parse error means "no GTIN here"
        return None


def _gs1_gtin(value: str) -> str | None:
    import biip  # noqa: PLC0415 - biip costs ~80 ms to import
    from biip.gs1_messages import GS1Message  # noqa: PLC0415

    try:
        if value.startswith("("):
            found = GS1Message.parse_hri(value).element_strings.get(ai="01")
            return found.value if found is not None else None
        result = biip.parse(value)
    except Exception:  # any biip parse error means "no GTIN here"
        return None
    return result.gtin.value if result.gtin is not None else None


def _read(image: Image.Image, formats: Any) -> list[DecodedCode]:
    found: list[DecodedCode] = []
    seen: set[tuple[str, str]] = set()
    for barcode in zxingcpp.read_barcodes(image, formats=formats):
        text, name = str(barcode.text), str(barcode.format)
        if (text, name) in seen:
            continue
        seen.add((text, name))
        found.append(DecodedCode(text=text, format=name, gtin=gtin_in(text, name)))
    return found


def decode_codes(image: Image.Image) -> list[DecodedCode]:
    """The symbols in a prepared image, by the cheapest pass that finds any."""
    for formats in (RETAIL, OTHERS):
        found = _read(image, formats)
        if found:
            return found
    for angle in ANGLES:
        rotated = image.rotate(angle, expand=True, fillcolor=255)
        found = _read(rotated, EVERYTHING)
        if found:
            return found
    return []


def decode_image(data: bytes) -> list[DecodedCode]:
    """The barcodes in an uploaded photo (empty when none is found)."""
    return decode_codes(load_image(data))
