"""Photos read within the function's memory: the pixel budget, one channel, the bombs.

The bombs of issue 22 (a 0.9 MB PNG of 13000 x 13000 transparent pixels, a 9400 x 9400
PNG) and the largest image the budget accepts are decoded in a child process under an
address-space limit equal to the function's memory (`resource.setrlimit(RLIMIT_AS)`):
before the budget, the first died with a MemoryError there and the others peaked at
790-900 MB of RSS. No timing is asserted (bench/image_memory.py measures time).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFile, ImageOps

from barcode_service import image_budget
from barcode_service.decode import decode_image, load_photo
from barcode_service.errors import ImageTooLarge, UnreadableUpload
from barcode_service.image_budget import MAX_PIXELS, read_greyscale
from bench.image_memory import decode_in_child, flat_png, worst_accepted
from local.template import Template
from tests.support.workers import Env, make_worker, upload

ROOT = Path(__file__).resolve().parents[2]


def function_memory_mb() -> int:
    """The MemorySize the decoding functions run with (the template's Globals)."""
    return int(Template.load(ROOT / "template.yaml").globals_for("Function")["MemorySize"])


def png(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def largest_difference(one: Image.Image, other: Image.Image) -> int:
    extrema = ImageChops.difference(one, other).getextrema()
    assert isinstance(extrema[1], int)
    return extrema[1]


def composited(image: Image.Image) -> Image.Image:
    """What the decoder did before: RGBA onto a white RGBA background, then L."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("L")


@pytest.mark.parametrize(
    ("size", "mode"),
    [((13000, 13000), "RGBA"), ((9400, 9400), "RGB")],
    ids=["13000x13000-rgba", "9400x9400-rgb"],
)
def test_the_bombs_are_refused_from_the_header_within_the_memory_limit(
    size: tuple[int, int], mode: str
) -> None:
    limit = function_memory_mb()
    result = decode_in_child(flat_png(*size, mode), limit_mb=limit)
    assert result.outcome == "image_too_large"
    # Refused before any pixel is decoded: nothing beyond the imports was allocated.
    assert result.peak_mb - result.baseline_mb < 50


def test_the_largest_accepted_image_decodes_within_the_memory_limit() -> None:
    limit = function_memory_mb()
    width, height = worst_accepted()
    assert width * height <= MAX_PIXELS
    result = decode_in_child(flat_png(width, height, "RGBA"), limit_mb=limit)
    assert result.outcome == "decoded"  # an answer: no MemoryError, no kill
    assert result.codes == 0
    # 4 bytes a pixel decoded plus the one-channel copies: far from the limit.
    assert result.peak_mb < limit / 2


def test_too_large_is_a_422_naming_the_limit() -> None:
    with pytest.raises(ImageTooLarge) as raised:
        read_greyscale(flat_png(8000, 6000, "L"))
    error = raised.value
    assert (error.status, error.code) == (422, "image_too_large")
    assert "8000 x 6000 px is 48 MP" in error.detail
    assert "at most 40 MP" in error.detail
    assert isinstance(error, UnreadableUpload)  # an upload problem like any unreadable file


def test_the_budget_is_checked_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("pixels were decoded")

    data = png(Image.new("L", (101, 100)))
    monkeypatch.setattr(image_budget, "MAX_PIXELS", 100 * 100)
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageTooLarge, match=r"101 x 100 px"):
        read_greyscale(data)


def test_a_12_mp_photo_fits_the_budget() -> None:
    assert MAX_PIXELS > 4032 * 3024 * 3  # with room: three times over


def test_transparent_rgba_is_flattened_onto_white_like_before() -> None:
    alpha = Image.linear_gradient("L").resize((64, 48))
    colour = Image.merge("RGB", (alpha.rotate(90), alpha, Image.new("L", (64, 48), 30)))
    rgba = colour.copy()
    rgba.putalpha(alpha)
    grey = read_greyscale(png(rgba))
    before = composited(rgba)
    assert grey.mode == "L"
    assert largest_difference(grey, before) <= 1  # the same picture, up to rounding


def test_grey_with_alpha_is_flattened_too() -> None:
    alpha = Image.linear_gradient("L").resize((20, 20))
    la = Image.merge("LA", (Image.new("L", (20, 20), 0), alpha))
    grey = read_greyscale(png(la))
    before = composited(la)
    assert largest_difference(grey, before) <= 1


@pytest.mark.parametrize("transparency", [0, bytes([0, 128, 255])], ids=["index", "table"])
def test_palette_transparency_is_flattened_in_the_palette(transparency: int | bytes) -> None:
    image = Image.new("P", (30, 10))
    image.putpalette([0, 0, 0, 200, 10, 10, 250, 250, 250])
    for x in range(30):
        for y in range(10):
            image.putpixel((x, y), x % 3)
    data = png(image, transparency=transparency)
    grey = read_greyscale(data)
    before = composited(Image.open(io.BytesIO(data)))
    assert grey.mode == "L"
    assert largest_difference(grey, before) <= 1


def test_a_jpeg_is_decoded_straight_to_grey(monkeypatch: pytest.MonkeyPatch) -> None:
    colour = Image.merge("RGB", [Image.linear_gradient("L").resize((200, 100))] * 3)
    out = io.BytesIO()
    colour.save(out, "JPEG", quality=95)
    modes: list[str] = []
    load = ImageFile.ImageFile.load

    def watch(self: ImageFile.ImageFile) -> object:
        modes.append(self.mode)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", watch)
    grey = read_greyscale(out.getvalue())
    assert grey.mode == "L"
    assert modes[0] == "L"  # the decoder itself made greyscale: no RGB buffer
    expected = Image.open(io.BytesIO(out.getvalue())).convert("L")
    assert largest_difference(grey, expected) <= 3


def test_exif_orientation_of_a_png_is_applied_to_the_grey_image() -> None:
    landscape = Image.new("RGBA", (300, 100), (255, 255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise to display
    grey = read_greyscale(png(landscape, exif=exif))
    assert grey.size == (100, 300)
    assert ImageOps.exif_transpose(grey).size == (100, 300)  # turned once, not twice


def test_scans_and_uploads_share_the_path() -> None:
    data = flat_png(8000, 6000, "L")
    with pytest.raises(ImageTooLarge):
        decode_image(data)
    with pytest.raises(ImageTooLarge):
        load_photo(data)


def test_an_upload_too_large_fails_with_image_too_large(env: Env) -> None:
    make_worker(env).handle(upload(env, "photo.png", flat_png(9400, 9400, "RGB")))
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == "image_too_large"
    assert "at most 40 MP" in job.error["detail"]
