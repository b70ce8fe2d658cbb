"""Generated PDFs and EPS files looked at as a printer would: pages rasterised with
PDFium at the print DPI, barcodes read with zxing-cpp, sizes measured in mm."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pypdfium2
import zxingcpp
from PIL import Image

MM_PER_INCH = 25.4
POINTS_PER_MM = 72 / MM_PER_INCH


@dataclass(frozen=True)
class Page:
    width_mm: float
    height_mm: float
    image: Image.Image  # greyscale, rasterised at `dpi`
    dpi: int

    def mm(self, pixels: float) -> float:
        return pixels * MM_PER_INCH / self.dpi

    def crop_mm(self, left: float, top: float, width: float, height: float) -> Image.Image:
        """The part of the page inside a box given in mm from its top-left."""
        px = self.dpi / MM_PER_INCH
        box = (
            round(left * px),
            round(top * px),
            round((left + width) * px),
            round((top + height) * px),
        )
        return self.image.crop(box)


def pages(pdf: bytes, dpi: int = 300) -> list[Page]:
    """Every page of `pdf`, rasterised at `dpi` in grey (no anti-aliasing of paths, as a
    printer's dots have none)."""
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for page in document:
        width_pt, height_pt = page.get_size()
        bitmap = page.render(
            scale=dpi / 72, grayscale=True, no_smoothpath=True, no_smoothtext=False
        )
        found.append(
            Page(
                width_pt / POINTS_PER_MM,
                height_pt / POINTS_PER_MM,
                bitmap.to_pil().convert("L"),
                dpi,
            )
        )
    document.close()
    return found


def dark_box(image: Image.Image, threshold: int = 128) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) in px of the dark marks in `image` (None: blank)."""
    return image.point(lambda v: 255 if v < threshold else 0).getbbox()


def read(image: Image.Image, format_name: str) -> list[str]:
    """The texts zxing-cpp reads in `image`, of one format."""
    formats = getattr(zxingcpp.BarcodeFormat, format_name)
    return [found.text for found in zxingcpp.read_barcodes(image, formats=formats)]


def eps_bounding_box(eps: bytes) -> tuple[float, float, float, float]:
    """The EPS's %%HiResBoundingBox (else %%BoundingBox) in points."""
    text = eps.decode("latin-1")
    for name in ("HiResBoundingBox", "BoundingBox"):
        match = re.search(rf"^%%{name}: (\S+) (\S+) (\S+) (\S+)$", text, re.MULTILINE)
        if match:
            x0, y0, x1, y1 = (float(v) for v in match.groups())
            return x0, y0, x1, y1
    raise AssertionError("no bounding box in the EPS")
