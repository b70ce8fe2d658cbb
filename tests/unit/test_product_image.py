"""Product photos for contributions: checked like photos, re-encoded without metadata."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from barcode_service.errors import EmptyUpload, UnreadableUpload
from barcode_service.uploads.product_image import (
    MAX_SIDE,
    normalise,
    product_image_key,
    store_product_image,
)
from barcode_service.verify import RenderFacts


def encoded(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


class MemoryImages:
    """An ImageStore in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def exists(self, key: str) -> bool:
        return key in self.objects

    def facts(self, key: str) -> RenderFacts | None:
        return None

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key, (None, ""))[0]

    def put(
        self, key: str, body: bytes, image_format: str, facts: RenderFacts | None = None
    ) -> None:
        self.objects[key] = (body, image_format)

    def url(self, key: str) -> str:
        return f"https://images.example.com/{key}"


def test_a_phone_photo_is_turned_upright_shrunk_and_stripped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by 90 degrees
    exif[0x010F] = "PhoneMaker"
    photo = encoded(Image.new("RGB", (4000, 3000), "navy"), "JPEG", exif=exif)
    jpeg, width, height = normalise(photo)
    assert (width, height) == (1200, MAX_SIDE)
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    assert image.size == (1200, MAX_SIDE)
    assert not image.getexif()
    assert "exif" not in image.info


@pytest.mark.parametrize("kind", ["PNG", "WEBP"])
def test_other_photo_types_become_jpeg_with_transparency_on_white(kind: str) -> None:
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    jpeg, width, height = normalise(encoded(image, kind))
    assert (width, height) == (40, 20)
    decoded = Image.open(io.BytesIO(jpeg)).convert("RGB")
    assert min(decoded.getpixel((10, 10))) > 240  # type: ignore[arg-type]


def test_a_small_photo_keeps_its_size() -> None:
    assert normalise(encoded(Image.new("L", (300, 200), 128), "PNG"))[1:] == (300, 200)


def huge_png(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "error", "says"),
    [
        (b"", EmptyUpload, "empty"),
        (b"GIF89a" + b"\x00" * 40, UnreadableUpload, "not a JPEG, PNG, WebP or HEIC"),
        (b"\xff\xd8\xff\xe0 damaged jpeg", UnreadableUpload, "cannot be read"),
        (huge_png(10_000, 10_000), UnreadableUpload, "too many pixels"),
    ],
    ids=["empty", "gif", "damaged", "bomb"],
)
def test_what_is_not_a_photo_is_refused(data: bytes, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as refused:
        normalise(data)
    assert says in str(refused.value)


def test_photos_are_stored_by_content() -> None:
    images = MemoryImages()
    photo = encoded(Image.new("RGB", (64, 48), "red"), "PNG")
    stored = store_product_image(photo, images)
    again = store_product_image(photo, images)
    assert stored == again
    assert stored.key.startswith("products/")
    assert stored.key.endswith(".jpg")
    assert stored.key == product_image_key(
        stored.key.removeprefix("products/").removesuffix(".jpg")
    )
    assert images.objects[stored.key][1] == "jpg"
    assert stored.to_row() == {
        "status": "stored",
        "image_url": f"https://images.example.com/{stored.key}",
        "width": 64,
        "height": 48,
        "content_type": "image/jpeg",
        "bytes": len(images.objects[stored.key][0]),
    }
