"""Decoding photos: zint renders real symbols, Pillow makes them look photographed."""

from __future__ import annotations

import io
import random

import pytest
import zint
from PIL import Image, ImageDraw, ImageFilter

from barcode_service import decode
from barcode_service.decode import decode_image, gtin_in, load_image
from barcode_service.errors import EmptyUpload, UnreadableUpload
from barcode_service.image_budget import is_heif


def render(
    symbology: zint.Symbology, data: str, scale: float = 2, gs1: bool = False
) -> Image.Image:
    """A symbol as zint draws it (quiet zones included), as a Pillow image."""
    symbol = zint.Symbol()
    symbol.symbology = symbology
    symbol.outfile = "symbol.png"
    symbol.scale = scale
    if gs1:
        symbol.input_mode = zint.InputMode.GS1
    symbol.output_options |= (
        zint.OutputOptions.BARCODE_MEMORY_FILE | zint.OutputOptions.BARCODE_QUIET_ZONES
    )
    symbol.encode(data)
    symbol.print()
    return Image.open(io.BytesIO(bytes(symbol.memfile))).convert("RGB")


def as_bytes(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def photo(
    symbol: Image.Image, *, size: tuple[int, int], angle: float = 0, blur: float = 0
) -> Image.Image:
    """The symbol on a cluttered, larger background, tilted and blurred like a phone shot."""
    rng = random.Random(7)
    scene = Image.new("RGB", size, (186, 180, 168))
    draw = ImageDraw.Draw(scene)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        shade = rng.randrange(90, 230)
        draw.ellipse(
            (x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)), fill=(shade,) * 3
        )
    tilted = symbol.rotate(angle, expand=True, fillcolor=(255, 255, 255)) if angle else symbol
    scene.paste(tilted, ((size[0] - tilted.width) // 2, (size[1] - tilted.height) // 3))
    return scene.filter(ImageFilter.GaussianBlur(blur)) if blur else scene


def gtins(data: bytes) -> list[str | None]:
    return [code.gtin for code in decode_image(data)]


def test_clean_ean13() -> None:
    found = decode_image(as_bytes(render(zint.Symbology.EANX, "690123456789")))
    assert [(c.gtin, c.format) for c in found] == [("6901234567892", "EAN-13")]


def test_blurred_tilted_jpeg_in_a_large_photo() -> None:
    scene = photo(
        render(zint.Symbology.EANX, "400638133393", scale=4), size=(3200, 2400), angle=35, blur=1.2
    )
    assert gtins(as_bytes(scene, "JPEG", quality=45)) == ["4006381333931"]


def test_upside_down_webp() -> None:
    scene = photo(render(zint.Symbology.EANX, "690123456789", scale=3), size=(1200, 900), angle=180)
    assert gtins(as_bytes(scene, "WEBP", quality=80)) == ["6901234567892"]


def test_upc_a_and_upc_e_become_gtins() -> None:
    assert gtins(as_bytes(render(zint.Symbology.UPCA, "03600029145"))) == ["0036000291452"]
    assert gtins(as_bytes(render(zint.Symbology.UPCE, "0123456"))) == ["0012345000065"]


def test_ean8() -> None:
    assert gtins(as_bytes(render(zint.Symbology.EANX, "9638507"))) == ["96385074"]


def test_qr_with_gs1_digital_link() -> None:
    link = "https://id.gs1.org/01/09506000134352/10/ABC123?17=271231"
    scene = photo(render(zint.Symbology.QRCODE, link, scale=4), size=(1400, 1000), blur=0.8)
    found = decode_image(as_bytes(scene, "JPEG", quality=70))
    assert [(c.gtin, c.format, c.text) for c in found] == [("09506000134352", "QR Code", link)]


def test_gs1_datamatrix_element_string() -> None:
    image = render(zint.Symbology.DATAMATRIX, "[01]09506000134352[17]271231", scale=4, gs1=True)
    assert gtins(as_bytes(image)) == ["09506000134352"]


def test_qr_with_plain_digits_and_qr_without_gtin() -> None:
    assert gtins(as_bytes(render(zint.Symbology.QRCODE, "6901234567892", scale=4))) == [
        "6901234567892"
    ]
    found = decode_image(as_bytes(render(zint.Symbology.QRCODE, "https://example.com/", scale=4)))
    assert [(c.gtin, c.text) for c in found] == [(None, "https://example.com/")]


def test_transparent_png_is_read_on_white() -> None:
    symbol = render(zint.Symbology.EANX, "690123456789").convert("L")
    # Black bars on a fully transparent background whose hidden colour is black too.
    alpha = symbol.point(lambda v: 255 if v < 128 else 0)
    rgba = Image.merge("RGBA", (*[Image.new("L", symbol.size, 0)] * 3, alpha))
    assert gtins(as_bytes(rgba)) == ["6901234567892"]


def test_no_barcode_is_an_empty_list() -> None:
    scene = photo(Image.new("RGB", (50, 50), "white"), size=(800, 600))
    assert decode_image(as_bytes(scene, "JPEG")) == []


def test_exif_orientation_and_downscale() -> None:
    portrait = Image.new("RGB", (3000, 1000), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    image = load_image(as_bytes(portrait, "JPEG", exif=exif))
    assert image.mode == "L"
    assert image.size[0] < image.size[1]
    assert max(image.size) <= decode.MAX_SIDE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"definitely not an image", "not a JPEG, PNG, WebP or HEIC"),
        (as_bytes(Image.new("RGB", (20, 20)), "GIF"), "not a JPEG, PNG, WebP or HEIC"),
        (as_bytes(Image.new("RGB", (400, 400), "white"), "JPEG")[:300], "damaged"),
    ],
)
def test_unreadable_images(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableUpload, match=message):
        decode_image(data)


def test_empty_image() -> None:
    with pytest.raises(EmptyUpload):
        decode_image(b"")


def test_decompression_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    data = as_bytes(Image.new("L", (400, 400), "white"))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(UnreadableUpload, match="too many pixels"):
        decode_image(data)


@pytest.mark.parametrize(
    ("text", "symbology", "expected"),
    [
        ("01234565", "UPC-E", "012345000065"),
        ("01234560", "UPC-E", None),
        ("(01)09506000134352(17)271231", "Code 128", "09506000134352"),
        ("(17)271231", "Code 128", None),
        ("0109506000134352", "DataBar", "09506000134352"),
        ("690-1234-56789-2", "QR Code", "6901234567892"),
        ("hello", "QR Code", None),
    ],
)
def test_gtin_in(text: str, symbology: str, expected: str | None) -> None:
    assert gtin_in(text, symbology) == expected


def test_a_tiny_image_is_read_at_twice_its_size() -> None:
    symbol = render(zint.Symbology.EANX, "690123456789", scale=1).convert("L")
    tiny = symbol.resize((158, 81), Image.Resampling.BILINEAR)  # base passes miss it
    assert gtins(as_bytes(tiny)) == ["6901234567892"]


def test_every_code_is_kept_not_only_the_first_kind() -> None:
    ean = render(zint.Symbology.EANX, "690123456789", scale=3)
    qr = render(zint.Symbology.QRCODE, "hello", scale=5)
    scene = Image.new("RGB", (ean.width + qr.width + 60, 400), "white")
    scene.paste(ean, (20, 20))
    scene.paste(qr, (ean.width + 40, 20))
    found = decode_image(as_bytes(scene))
    assert sorted((c.format, c.gtin) for c in found) == [
        ("EAN-13", "6901234567892"),
        ("QR Code", None),
    ]
    ean_box = next(c.position for c in found if c.format == "EAN-13")
    assert ean_box is not None
    assert ean_box.x < ean.width < ean_box.x + ean_box.width + 40


def test_points_of_a_turned_copy_map_back() -> None:
    image = Image.new("L", (400, 300), 255)
    image.putpixel((300, 50), 0)
    turned = image.rotate(45, expand=True, fillcolor=255)
    dark = [
        (x, y)
        for x in range(turned.width)
        for y in range(turned.height)
        if turned.getpixel((x, y)) < 128  # type: ignore[operator]
    ]
    turn = decode._Turn(45, (turned.width / 2, turned.height / 2), (200, 150))
    x, y = turn.back(*dark[0])
    assert abs(x - 300) <= 2
    assert abs(y - 50) <= 2


class _Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


class _Fake:
    """A zxing-cpp result as the decoder reads it."""

    def __init__(self, text: str, fmt: str = "EAN-13") -> None:
        self.text, self.format = text, fmt
        corners = (_Point(10, 10), _Point(110, 10), _Point(110, 60), _Point(10, 60))
        self.position = type(
            "P",
            (),
            dict(
                zip(("top_left", "top_right", "bottom_right", "bottom_left"), corners, strict=True)
            ),
        )


def test_a_doubtful_ean_read_yields_to_the_reading_confirmed_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []

    def read_barcodes(image: Image.Image, **options: object) -> list[_Fake]:
        calls.append(options.get("formats"))
        if options.get("formats") is decode.RETAIL_FORMATS:  # the confirming crop reads
            return [_Fake("0036000291452")]
        return [_Fake("4036000291455")] if len(calls) == 1 else []

    monkeypatch.setattr(decode.zxingcpp, "read_barcodes", read_barcodes)
    [code] = decode.decode_codes(Image.new("L", (200, 100), 255))
    assert (code.text, code.gtin, code.confirmations) == ("0036000291452", "0036000291452", 2)


def test_a_confirmed_read_keeps_its_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        decode.zxingcpp, "read_barcodes", lambda image, **options: [_Fake("6901234567892")]
    )
    [code] = decode.decode_codes(Image.new("L", (200, 100), 255))
    assert (code.text, code.confirmations) == ("6901234567892", 2)


@pytest.mark.parametrize(
    ("image", "advice"),
    [
        (Image.new("L", (1200, 900), 250), "overexposed"),
        (Image.new("L", (1200, 900), 128), "very little contrast"),
        (Image.new("L", (1200, 900), 128), "blurred"),
        (Image.new("L", (200, 900), 10), "small (200x900 px)"),
    ],
)
def test_advice_names_what_was_measured(image: Image.Image, advice: str) -> None:
    quality = decode.measure(decode.load_photo(as_bytes(image)))
    assert advice in quality.advice()


def test_a_sharp_well_lit_photo_without_code_gets_general_advice() -> None:
    scene = photo(Image.new("RGB", (50, 50), "white"), size=(1200, 900))
    noisy = Image.effect_noise((1200, 900), 90).convert("RGB")
    scene = Image.blend(scene, noisy, 0.5)
    advice = decode.measure(decode.load_photo(as_bytes(scene))).advice()
    assert advice.startswith("No barcode was found in the photo; ")


def test_heic_is_recognised_by_its_ftyp_box() -> None:
    assert is_heif(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00")
    assert not is_heif(as_bytes(Image.new("L", (10, 10))))
