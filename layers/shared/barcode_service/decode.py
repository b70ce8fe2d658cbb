"""Barcodes in photos: every code zxing-cpp can read, with its symbology and position.

One decoder for `POST /v1/scans` and the S3 upload worker. Passes, cheapest first;
each later pass runs only when the earlier ones found nothing:

1. fast: the photo downscaled to FAST_SIDE px, every format zxing-cpp reads (EAN/UPC,
   ITF/ITF-14, Code 128/GS1-128, Code 39/93, Codabar, DataBar, QR, Data Matrix, PDF417,
   Aztec, ...), its LocalAverage binarizer, inverted (light-on-dark) symbols included;
2. full resolution, when the photo is larger than the fast copy: small codes in a
   12 MP frame have too few pixels per module once downscaled;
3. the GlobalHistogram binarizer (uneven light), then copies rotated by +-45 degrees
   (tilted 1D codes), on the fast copy;
4. for small images (<= UPSCALE_BELOW px), the image upscaled 2x.

Every code a pass finds is kept (a QR beside an EAN: both), de-duplicated by text and
symbology. EAN/UPC reads carry one mod-10 check digit, so a misread can still be a
valid but different code (a UPC-A read as another EAN-13): each one is read again on a
full-resolution crop around it with both binarizers, and the text most reads agree on
wins (the first read on a tie). `confirmations` says how many re-reads agreed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import zxingcpp
from PIL import Image, ImageFilter, ImageStat

from .image_budget import read_greyscale

FAST_SIDE = 1600
MAX_SIDE = FAST_SIDE  # the fast copy's largest side (older name)
ANGLES = (45, -45)
ALL_FORMATS = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.All])
_F = zxingcpp.BarcodeFormat
RETAIL_FORMATS = zxingcpp.BarcodeFormats([_F.EAN13, _F.EAN8, _F.UPCA, _F.UPCE])
RETAIL_NAMES = {"EAN-13", "EAN-8", "UPC-A", "UPC-E"}
UPSCALE_BELOW = 1000  # px: images this small get a last pass at twice their size
CONFIRM_PADDING = 0.35  # of the symbol's size, around it, for the confirming crop


@dataclass(frozen=True)
class Position:
    """Where a code is: its bounding box in the uploaded image's pixels (after EXIF turn)."""

    x: int
    y: int
    width: int
    height: int

    def to_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


@dataclass(frozen=True)
class DecodedCode:
    """One symbol found: its text, symbology, the GTIN it carries (None: none), where."""

    text: str
    format: str
    gtin: str | None
    position: Position | None = None
    confirmations: int = 0


@dataclass(frozen=True)
class Photo:
    """A loaded photo: the upright greyscale image at full resolution, and a fast copy."""

    full: Image.Image
    fast: Image.Image

    @property
    def scale(self) -> float:
        """Full-resolution pixels per fast-copy pixel."""
        return self.full.width / self.fast.width


# --- loading ---------------------------------------------------------------------


def load_photo(data: bytes) -> Photo:
    """The photo upright and greyscale, full size and fast copy, read within the memory
    budget (image_budget); UnreadableUpload if corrupt, ImageTooLarge over MAX_PIXELS."""
    full = read_greyscale(data)
    fast = full
    if max(full.size) > FAST_SIDE:
        fast = full.copy()
        fast.thumbnail((FAST_SIDE, FAST_SIDE))
    return Photo(full=full, fast=fast)


def load_image(data: bytes) -> Image.Image:
    """The fast copy of a photo: upright, greyscale, no larger than FAST_SIDE."""
    return load_photo(data).fast


# --- what a symbol holds -------------------------------------------------------------


def gtin_in(text: str, symbology: str) -> str | None:
    """The GTIN a symbol's text carries (retail digits, GS1 data, a Digital Link), or None."""
    from .canonical import canonicalise  # noqa: PLC0415 - keeps decode importable alone
    from .errors import InvalidGtin  # noqa: PLC0415

    value = text.strip()
    if symbology in RETAIL_NAMES and not (symbology == "UPC-E" and len(value) == 8):
        return value
    try:
        found = canonicalise(value, symbology)
    except InvalidGtin:
        return None
    return found.gtin.code if found.gtin is not None else None


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    text: str
    format: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in full-resolution pixels


@dataclass(frozen=True)
class _Turn:
    """How a copy was rotated (PIL: counter-clockwise, canvas expanded), to map points back."""

    angle: float
    centre: tuple[float, float]  # of the rotated copy
    original_centre: tuple[float, float]

    def back(self, x: float, y: float) -> tuple[float, float]:
        theta = math.radians(self.angle)
        dx, dy = x - self.centre[0], y - self.centre[1]
        return (
            self.original_centre[0] + dx * math.cos(theta) - dy * math.sin(theta),
            self.original_centre[1] + dx * math.sin(theta) + dy * math.cos(theta),
        )


def _box(barcode: Any, scale: float, turn: _Turn | None) -> tuple[float, float, float, float]:
    corners = barcode.position
    points = [
        (p.x, p.y)
        for p in (corners.top_left, corners.top_right, corners.bottom_right, corners.bottom_left)
    ]
    if turn is not None:
        points = [turn.back(x, y) for x, y in points]
    xs = [x * scale for x, _ in points]
    ys = [y * scale for _, y in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _read(
    image: Image.Image,
    *,
    scale: float = 1.0,
    formats: Any = ALL_FORMATS,
    binarizer: Any = zxingcpp.Binarizer.LocalAverage,
    turn: _Turn | None = None,
) -> list[_Read]:
    return [
        _Read(text=str(b.text), format=str(b.format), box=_box(b, scale, turn))
        for b in zxingcpp.read_barcodes(image, formats=formats, binarizer=binarizer)
    ]


def _rotated_reads(fast: Image.Image, scale: float) -> list[_Read]:
    found: list[_Read] = []
    for angle in ANGLES:
        rotated = fast.rotate(angle, expand=True, fillcolor=255)
        turn = _Turn(
            angle, (rotated.width / 2, rotated.height / 2), (fast.width / 2, fast.height / 2)
        )
        found += _read(rotated, scale=scale, turn=turn)
        if found:
            break
    return found


def _passes(photo: Photo) -> list[_Read]:
    found = _read(photo.fast, scale=photo.scale)
    if not found and photo.fast is not photo.full:
        found = _read(photo.full)
    if not found:
        found = _read(photo.fast, scale=photo.scale, binarizer=zxingcpp.Binarizer.GlobalHistogram)
    if not found:
        found = _rotated_reads(photo.fast, photo.scale)
    if not found and max(photo.full.size) <= UPSCALE_BELOW:
        # Tiny images (a cropped label, a thumbnail): 2x more pixels per module helps.
        bigger = photo.full.resize(
            (photo.full.width * 2, photo.full.height * 2), Image.Resampling.BICUBIC
        )
        found = _read(bigger, scale=0.5)
    return found


def _confirm(photo: Photo, read: _Read) -> tuple[str, int]:
    """(the text most reads of this EAN/UPC symbol agree on, how many re-reads agreed)."""
    x0, y0, x1, y1 = read.box
    pad_x, pad_y = (x1 - x0) * CONFIRM_PADDING + 8, (y1 - y0) * CONFIRM_PADDING + 8
    crop = photo.full.crop(
        (
            max(0, int(x0 - pad_x)),
            max(0, int(y0 - pad_y)),
            min(photo.full.width, int(x1 + pad_x)),
            min(photo.full.height, int(y1 + pad_y)),
        )
    )
    votes = Counter([read.text])
    for binarizer in (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram):
        for barcode in zxingcpp.read_barcodes(crop, formats=RETAIL_FORMATS, binarizer=binarizer):
            votes[str(barcode.text)] += 1
    best = max(votes, key=lambda text: (votes[text], text == read.text))
    return best, votes[best] - (1 if best == read.text else 0)


def decode_photo(photo: Photo) -> list[DecodedCode]:
    """Every code in a loaded photo (see the module docstring for the passes)."""
    found: list[DecodedCode] = []
    seen: set[tuple[str, str]] = set()
    for read in _passes(photo):
        text, confirmations = read.text, 0
        if read.format in RETAIL_NAMES:
            text, confirmations = _confirm(photo, read)
        if (text, read.format) in seen:
            continue
        seen.add((text, read.format))
        x0, y0, x1, y1 = read.box
        position = Position(
            x=max(0, round(x0)), y=max(0, round(y0)), width=round(x1 - x0), height=round(y1 - y0)
        )
        gtin = gtin_in(text, read.format)
        found.append(DecodedCode(text, read.format, gtin, position, confirmations))
    return found


def decode_codes(image: Image.Image) -> list[DecodedCode]:
    """The symbols in an already prepared greyscale image."""
    return decode_photo(Photo(full=image, fast=image))


def decode_image(data: bytes) -> list[DecodedCode]:
    """The barcodes in an uploaded photo (empty when none is found)."""
    return decode_photo(load_photo(data))


# --- why nothing was found --------------------------------------------------------------

SMALL_SIDE = 480  # px: below this a product barcode rarely has 2 px per module
DARK_MEAN = 55
BRIGHT_MEAN = 235
FLAT_STDDEV = 18
BLURRED_EDGES = 6.0  # mean edge response of the fast copy at 800 px


@dataclass(frozen=True)
class PhotoQuality:
    """What was measured on a photo in which nothing was found."""

    width: int
    height: int
    brightness: float  # mean luminance 0..255
    contrast: float  # luminance standard deviation
    sharpness: float  # mean edge strength at 800 px

    def advice(self) -> str:
        """A message that helps the user retake the photo."""
        problems: list[str] = []
        if min(self.width, self.height) < SMALL_SIDE:
            problems.append(
                f"the photo is small ({self.width}x{self.height} px): move closer or send "
                "a larger image"
            )
        if self.brightness < DARK_MEAN:
            problems.append("the photo is too dark: add light or turn on the flash")
        elif self.brightness > BRIGHT_MEAN:
            problems.append("the photo is overexposed: avoid glare and direct light")
        elif self.contrast < FLAT_STDDEV:
            problems.append("the photo has very little contrast: avoid glare and shadows")
        if self.sharpness < BLURRED_EDGES:
            problems.append("the photo looks blurred: hold the phone still and let it focus")
        if not problems:
            problems.append(
                "fill the frame with the whole barcode, hold it flat and in focus, in good light"
            )
        return "No barcode was found in the photo; " + "; ".join(problems) + "."


def measure(photo: Photo) -> PhotoQuality:
    """Size, brightness, contrast and sharpness of a photo, for `PhotoQuality.advice`."""
    stats = ImageStat.Stat(photo.fast)
    probe = photo.fast.copy()
    probe.thumbnail((800, 800))
    edges = ImageStat.Stat(probe.filter(ImageFilter.FIND_EDGES)).mean[0]
    return PhotoQuality(
        width=photo.full.width,
        height=photo.full.height,
        brightness=stats.mean[0],
        contrast=stats.stddev[0],
        sharpness=edges,
    )
