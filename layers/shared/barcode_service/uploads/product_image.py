"""A product's photo for a community contribution (`purpose: "product_image"` uploads).

Checked like a scanned photo (an accepted type by its bytes, within the upload's size
limit and image_budget's pixel budget read from its header, decodable), then
re-encoded: upright (the EXIF turn applied), at most MAX_SIDE px a side, as a JPEG
without any metadata (a phone photo's EXIF holds where it was taken, and this image is
public). Stored content-addressed in the images bucket (`products/<sha256>.jpg`, kept,
unlike generated barcodes) and served through the images bucket's URLs; the job's one
result row says where.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import EmptyUpload, UnreadableUpload
from ..image_budget import check_pixels, open_image
from ..storage import ImageStore

PREFIX = "products/"
MAX_SIDE = 1600
"""Pixels on a stored product photo's longer side: enough for a product page."""
QUALITY = 85


def product_image_key(digest: str) -> str:
    return f"{PREFIX}{digest}.jpg"


@dataclass(frozen=True)
class StoredImage:
    """Where a product photo was stored and what it is."""

    key: str
    url: str
    width: int
    height: int
    bytes: int

    def to_row(self) -> dict[str, Any]:
        """The job's result row."""
        return {
            "status": "stored",
            "image_url": self.url,
            "width": self.width,
            "height": self.height,
            "content_type": "image/jpeg",
            "bytes": self.bytes,
        }


def normalise(data: bytes) -> tuple[bytes, int, int]:
    """The photo as an upright JPEG of at most MAX_SIDE px a side, without metadata."""
    if not data:
        raise EmptyUpload("the image file is empty")
    try:
        opened = open_image(data)
        check_pixels(*opened.size)  # ImageTooLarge, from the header, before decoding
        opened.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale
        image = ImageOps.exif_transpose(opened)
        if image.mode != "RGB":
            rgba = image.convert("RGBA")  # transparency shown on white, as a screen does
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            image = image.convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=QUALITY, optimize=True)
    except Image.DecompressionBombError:
        raise UnreadableUpload("the image has too many pixels to process") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnreadableUpload(
            "the image cannot be read: it is not a JPEG, PNG, WebP or HEIC image, or it is damaged"
        ) from None
    return out.getvalue(), image.width, image.height


def store_product_image(data: bytes, images: ImageStore) -> StoredImage:
    """Check, re-encode and store one product photo; UnreadableUpload when it is not one."""
    jpeg, width, height = normalise(data)
    key = product_image_key(hashlib.sha256(jpeg).hexdigest())
    # Content-addressed: writing the same bytes again changes nothing (and needs no read).
    images.put(key, jpeg, "jpg")
    return StoredImage(key, images.url(key), width, height, len(jpeg))
