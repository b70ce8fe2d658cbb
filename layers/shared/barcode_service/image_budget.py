"""Reading a photo within the function's memory: a pixel budget, and one channel only.

The functions have 1024 MB. A PNG of a few hundred KB can declare 13000 x 13000 px,
676 MB once decoded as RGBA, and every full-size copy of it (an upright copy, a white
background, the composite) costs as much again. So, for scans and uploads alike:

- the pixel count is checked from the header, before any pixel is decoded: more than
  MAX_PIXELS is `ImageTooLarge` (422 `image_too_large`, naming the limit);
- a JPEG is decoded straight to greyscale (libjpeg's draft mode: no RGB buffer at all);
- any other image becomes the one channel zxing-cpp reads (L) right after decoding; a
  transparent image is flattened onto white inside that channel (the palette of a `P`
  image, or the L and alpha channels of an RGBA one), never as a full-size RGBA copy;
- the EXIF turn is applied to the greyscale image, not to the decoded source.

The peak is then the decoded source (at most 4 bytes a pixel) plus about three 1-byte
copies, instead of four 4-byte ones (bench/image_memory.py measures the worst case).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import EmptyUpload, ImageTooLarge, UnreadableUpload

MAX_PIXELS = 40_000_000
"""Most pixels a photo may have (40 MP): a 12 MP phone photo (4032 x 3024) fits with
room, as do 24 MP ones; a larger image is refused before it is decoded."""

# Pillow may only parse the formats we accept, whatever the bytes claim to be.
PIL_FORMATS = ["JPEG", "PNG", "WEBP"]
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def is_heif(data: bytes) -> bool:
    """HEIC/HEIF (the iPhone's default): an ISO-BMFF `ftyp` box with a HEIF brand."""
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0") + " MP"


def check_pixels(width: int, height: int) -> None:
    """ImageTooLarge when a `width` x `height` image is over the budget."""
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(
            f"the image has too many pixels to process: {width} x {height} px is "
            f"{megapixels(width * height)}, and at most {megapixels(MAX_PIXELS)} are decoded "
            "(a 12 MP phone photo fits); send a smaller image"
        )


def open_image(data: bytes) -> Image.Image:
    """The image with its header read and no pixel decoded yet (an accepted format only)."""
    with warnings.catch_warnings():
        # Pillow warns from 89 MP; MAX_PIXELS is far lower and is checked right after.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        if is_heif(data):
            # Lazy: libheif is loaded only for HEIC photos. pi-heif is pillow-heif's
            # decode-only build (no x265 encoder: 11 MB less in the layer).
            from pi_heif import register_heif_opener  # noqa: PLC0415

            register_heif_opener()
            return Image.open(io.BytesIO(data), formats=["HEIF"])
        return Image.open(io.BytesIO(data), formats=PIL_FORMATS)


def _palette_grey(image: Image.Image) -> Image.Image:
    """A `P` image with transparency as L: each palette entry flattened onto white, so
    the only full-size buffers are the 1-byte indices and the 1-byte result."""
    palette = image.getpalette("RGB") or []
    transparency = image.info.pop("transparency", None)
    alphas = [255] * 256
    if isinstance(transparency, int) and 0 <= transparency < 256:
        alphas[transparency] = 0
    elif isinstance(transparency, bytes):
        alphas[: len(transparency)] = list(transparency[:256])
    greys: list[int] = []
    for index in range(256):
        r, g, b = palette[index * 3 : index * 3 + 3] or (0, 0, 0)
        grey = (r * 299 + g * 587 + b * 114) / 1000  # ITU-R 601-2, as convert("L")
        alpha = alphas[index] / 255
        greys += [round(grey * alpha + 255 * (1 - alpha))] * 3
    image.putpalette(greys, "RGB")
    return image.convert("L")


def _flattened_grey(image: Image.Image) -> Image.Image:
    """An image with an alpha channel as L, flattened onto white the way a screen shows
    it (transparent pixels often hold black): grey * a + white * (1 - a), per pixel."""
    if image.mode == "PA":  # pragma: no cover - no accepted format decodes to PA
        image = image.convert("RGBA")
    grey = image.convert("L")
    # White pasted through the inverted alpha is the composite onto white, in place.
    see_through = ImageOps.invert(image.getchannel(image.getbands()[-1]))
    grey.paste(255, mask=see_through)
    return grey


def read_greyscale(data: bytes) -> Image.Image:
    """The photo as one full-size, upright greyscale (L) image.

    EmptyUpload for no bytes, ImageTooLarge over MAX_PIXELS (from the header, before
    decoding), UnreadableUpload when it is not a JPEG, PNG, WebP or HEIC, or is damaged.
    """
    if not data:
        raise EmptyUpload("the image file is empty")
    try:
        opened = open_image(data)
        check_pixels(*opened.size)
        if opened.format == "JPEG":
            opened.draft("L", opened.size)  # greyscale straight from the decoder
        opened.load()
        if opened.mode == "P" and "transparency" in opened.info:
            grey = _palette_grey(opened)
        elif opened.mode in _ALPHA_MODES:
            grey = _flattened_grey(opened)
        else:
            grey = opened.convert("L")
        del opened  # the decoded source goes before the upright copy is made
        # convert() keeps the EXIF (info): the turn is made on the 1-byte image.
        ImageOps.exif_transpose(grey, in_place=True)
        return grey
    except Image.DecompressionBombError:
        raise ImageTooLarge(
            f"the image has too many pixels to process; at most {megapixels(MAX_PIXELS)} "
            "are decoded (a 12 MP phone photo fits)"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        detail = "it is not a JPEG, PNG, WebP or HEIC image, or it is damaged"
        if isinstance(error, UnidentifiedImageError):
            detail = "it is not a JPEG, PNG, WebP or HEIC image"
        raise UnreadableUpload(f"the image cannot be read: {detail}") from None
