"""Every local render is read back before it is kept: verified, module_px, warnings,
and the 422 that names a size that scans; option validation with invalid_params."""

from __future__ import annotations

from typing import Any

import pytest
import zxingcpp

from barcode_service.barcode_request import parse_request, response_mode
from barcode_service.errors import InvalidParameter, Unscannable
from barcode_service.render import minimum_size
from barcode_service.symbologies import CATALOG, Symbology, find_symbology, validate_content
from barcode_service.verify import render_verified

READ_HERE = [s for s in CATALOG if s.read is not None]


def test_the_read_back_table_names_real_zxing_formats() -> None:
    assert len(READ_HERE) >= 50
    for symbology in READ_HERE:
        assert symbology.read is not None
        assert hasattr(zxingcpp.BarcodeFormat, symbology.read.format), symbology.name


@pytest.mark.parametrize("symbology", READ_HERE, ids=lambda s: s.name)
def test_every_readable_type_is_verified(symbology: Symbology) -> None:
    content = validate_content(symbology, symbology.example)
    w1, h1 = minimum_size(symbology, content, False)
    made = render_verified(
        parse_request(
            {
                "type": symbology.name,
                "content": content,
                "width": max(3 * w1, 64),
                "height": max(3 * h1, 64),
            }
        )
    )
    assert made.facts.verified is True, symbology.name
    assert made.facts.module_px >= 2
    assert made.facts.warnings == ()


def test_types_no_decoder_reads_are_null_not_false() -> None:
    made = render_verified(
        parse_request({"type": "postnet", "content": "12345", "width": 300, "height": 60})
    )
    assert made.facts.verified is None


def test_one_pixel_per_module_warns_with_the_size_for_two() -> None:
    made = render_verified(
        parse_request({"type": "ean13", "content": "6901234567892", "width": 190, "height": 100})
    )
    assert made.facts.module_px == 1
    assert made.facts.warnings == (
        "1 px per module may not scan once scaled; 226 px wide gives 2 px per module",
    )
    two_d = render_verified(
        parse_request({"type": "qrcode", "content": "hi", "width": 40, "height": 40})
    )
    assert two_d.facts.warnings == (
        "1 px per module may not scan once scaled; 58 x 58 px gives 2 px per module",
    )


def test_a_render_that_does_not_read_back_is_a_422_naming_a_size_that_does() -> None:
    micro = find_symbology("micropdf417")
    w1, h1 = minimum_size(micro, "MicroPDF417", False)
    with pytest.raises(Unscannable) as caught:
        render_verified(
            parse_request(
                {"type": "micropdf417", "content": "MicroPDF417", "width": w1, "height": h1}
            )
        )
    error = caught.value
    assert error.status == 422
    assert error.code == "unscannable"
    assert "does not decode back" in error.detail
    assert f"{2 * w1} x {2 * h1} px (2 px per module) does" in error.detail
    assert [p.name for p in error.invalid_params] == ["width", "height"]
    # ...and that size does scan.
    bigger = render_verified(
        parse_request(
            {"type": "micropdf417", "content": "MicroPDF417", "width": 2 * w1, "height": 2 * h1}
        )
    )
    assert bigger.facts.verified is True


def test_itf14_without_its_quiet_zone_is_refused_at_every_size() -> None:
    with pytest.raises(Unscannable) as caught:
        render_verified(
            parse_request(
                {
                    "type": "itf14",
                    "content": "15400141288763",
                    "width": 400,
                    "height": 150,
                    "quiet_zone": False,
                }
            )
        )
    assert "turn quiet_zone on" in caught.value.detail
    assert caught.value.invalid_params[0].name == "quiet_zone"


def test_gs1_2d_types_decode_to_the_right_ais() -> None:
    for name in ("gs1_datamatrix", "gs1_qrcode"):
        request = parse_request(
            {
                "type": name,
                "content": "(01)09501101530003(17)271231(10)AB1",
                "width": 200,
                "height": 200,
            }
        )
        assert render_verified(request).facts.verified is True
    link = parse_request(
        {
            "type": "gs1_digital_link",
            "width": 300,
            "height": 300,
            "content": "(01)09501101530003(10)AB1(17)271231",
        }
    )
    assert link.content == "https://id.gs1.org/01/09501101530003/10/AB1?17=271231"
    assert render_verified(link).facts.verified is True


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("(01)09501101530004", "check digit"),
        ("(01)09501101530003(17)271331", "(17)"),
        ("(01)09501101530003(10)" + "A" * 21, "(10)"),
    ],
)
def test_gs1_content_errors_are_400_on_content(content: str, fragment: str) -> None:
    for name in ("gs1_datamatrix", "gs1_qrcode", "gs1_digital_link"):
        with pytest.raises(InvalidParameter) as caught:
            parse_request({"type": name, "content": content, "width": 200, "height": 200})
        assert fragment in caught.value.detail
        assert caught.value.invalid_params[0].name == "content"


BASE: dict[str, Any] = {"type": "ean13", "content": "6901234567892", "width": 300, "height": 150}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": "cm"}, "unit"),
        ({"unit": "mm", "width": "-4"}, "width"),
        ({"unit": "mm", "width": "4000"}, "width"),
        ({"dpi": "30"}, "dpi"),
        ({"fg": "red"}, "fg"),
        ({"bg": "12345"}, "bg"),
        ({"fg": "transparent"}, "fg"),
        ({"rotate": "45"}, "rotate"),
        ({"quiet_zone": "sometimes"}, "quiet_zone"),
        ({"format": "gif"}, "format"),
        ({"width": "10"}, "width"),
    ],
)
def test_each_bad_option_is_a_400_naming_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_request({**BASE, **changes})
    assert [p.name for p in caught.value.invalid_params] == [field]
    assert caught.value.to_problem()["invalid_params"][0]["name"] == field


def test_several_bad_options_are_named_together() -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_request({**BASE, "fg": "nope", "rotate": "1", "width": "x"})
    assert {p.name for p in caught.value.invalid_params} == {"fg", "rotate", "width"}


def test_low_contrast_and_inverted_colours_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="contrast") as caught:
        parse_request({**BASE, "fg": "777777", "bg": "888888"})
    assert {p.name for p in caught.value.invalid_params} == {"fg", "bg"}
    with pytest.raises(InvalidParameter, match="light bars on a dark ground"):
        parse_request({**BASE, "fg": "FFFFFF", "bg": "000000"})
    with pytest.raises(InvalidParameter, match="transparent"):
        parse_request({**BASE, "fg": "EEEEEE", "bg": "transparent"})


def test_every_option_is_part_of_the_digest() -> None:
    base = parse_request(BASE)
    variants = [
        {"fg": "1A237E"},
        {"bg": "FFF8E1"},
        {"bg": "transparent"},
        {"rotate": 180},
        {"quiet_zone": "false"},
        {"dpi": 300},
        {"unit": "mm", "width": 40, "height": 20},
        {"format": "svg", "unit": "mm", "width": 40, "height": 20},
    ]
    digests = {parse_request({**BASE, **v}).digest for v in variants}
    assert len(digests | {base.digest}) == len(variants) + 1
    assert parse_request({**BASE, "fg": "#000000", "rotate": "0"}).digest == base.digest


def test_response_mode_from_the_parameter_or_the_accept_header() -> None:
    assert response_mode({}, None) == "json"
    assert response_mode({"response": "IMAGE"}, "application/json") == "image"
    assert response_mode({}, "image/png, */*") == "image"
    assert response_mode({}, "image/svg+xml") == "image"
    assert response_mode({}, "*/*") == "json"
    assert response_mode({"response": "redirect"}, "image/png") == "redirect"
    with pytest.raises(InvalidParameter) as caught:
        response_mode({"response": "bytes"}, None)
    assert caught.value.invalid_params[0].name == "response"
