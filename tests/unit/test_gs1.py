"""GS1 element strings and Digital Link URIs: validation and conversion both ways."""

from __future__ import annotations

import pytest

from barcode_service.errors import InvalidGs1
from barcode_service.gs1 import (
    DEFAULT_RESOLVER,
    Gs1Element,
    is_digital_link,
    parse_digital_link,
    parse_element_string,
    parse_gs1,
)

LOT_AND_EXPIRY = "(01)09501101530003(17)271231(10)AB1"


def test_element_string_in_brackets() -> None:
    message = parse_element_string(LOT_AND_EXPIRY)
    assert message.elements == (
        Gs1Element("01", "09501101530003"),
        Gs1Element("17", "271231"),
        Gs1Element("10", "AB1"),
    )
    assert message.element_string == LOT_AND_EXPIRY
    assert message.ais == {"01": "09501101530003", "17": "271231", "10": "AB1"}
    assert message.gtin == "09501101530003"


@pytest.mark.parametrize(
    "scanned",
    [
        "010950110153000317271231" + "10AB1",
        "]d2010950110153000317271231" + "10AB1",
        "]Q3010950110153000317271231" + "10AB1",
        "]C1010950110153000310AB1\x1d17271231",
    ],
)
def test_scanner_forms_with_symbology_identifier_and_group_separator(scanned: str) -> None:
    assert parse_element_string(scanned).ais == {
        "01": "09501101530003",
        "17": "271231",
        "10": "AB1",
    }


def test_element_string_to_digital_link_and_back() -> None:
    message = parse_element_string(LOT_AND_EXPIRY)
    link = message.digital_link()
    assert link == "https://id.gs1.org/01/09501101530003/10/AB1?17=271231"
    assert link.startswith(DEFAULT_RESOLVER)
    assert parse_digital_link(link).ais == message.ais
    assert message.digital_link("https://brand.example.com/") == (
        "https://brand.example.com/01/09501101530003/10/AB1?17=271231"
    )


def test_digital_link_on_any_host_with_extra_query_parameters() -> None:
    message = parse_gs1(
        "https://example.com/shop/01/09501101530003/21/S42?17=271231&linkType=gs1:pip"
    )
    assert message.ais == {"01": "09501101530003", "21": "S42", "17": "271231"}
    assert is_digital_link(" HTTPS://x.example/01/09501101530003")
    assert not is_digital_link(LOT_AND_EXPIRY)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("(01)09501101530004", "check digit"),  # GTIN check digit
        ("(00)106141411234567898", "SSCC check digit"),
        ("(414)5412345000014", "check digit"),  # GLN
        ("(01)09501101530003(17)271331", "(17)"),  # month 13
        ("(01)09501101530003(17)270230", "date"),  # 30 February
        ("(01)0950110153000", "(01)"),  # 13 digits
        ("(01)09501101530003(10)" + "A" * 21, "(10)"),  # lot over 20 characters
        ("(98765)x", "Unknown"),
        ("(01)09501101530003(10)AB1(17)", "only"),  # an AI without a value
        ("", "empty"),
        ("https://id.gs1.org/01/09501101530004", "check digit"),
        ("https://example.com/no/ai/here", "primary identifier"),
        ("ftp://id.gs1.org/01/09501101530003", "not a valid GS1"),
    ],
)
def test_invalid_gs1_data_is_refused_with_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(InvalidGs1) as caught:
        parse_gs1(text)
    assert fragment.lower() in caught.value.detail.lower()
    assert caught.value.status == 400
    assert caught.value.code == "invalid_parameter"


def test_digital_link_needs_a_primary_key() -> None:
    with pytest.raises(InvalidGs1, match="primary key"):
        parse_element_string("(10)AB1(17)271231").digital_link()


@pytest.mark.parametrize(
    ("scanned", "words"),
    [
        ("0109506000134352\x1d\x1d10AB1", None),  # a superfluous FNC1 is tolerated
        ("01095060001343", "AI (01) 095060001343: this AI takes 14 characters"),
        ("010950600013\x1d4352", "this AI takes 14 characters"),
        ("0109506000134352" + "10\x1d17271231", "AI (10) has no value"),
        ("0109506000134352" + "891234", "no GS1 AI at character 17"),
        ("(10)AB1(17", "opens an AI that is never closed"),
        ("(1A)x", "(1A) is not an AI"),
    ],
)
def test_scanner_data_is_split_by_gs1s_rules(scanned: str, words: str | None) -> None:
    if words is None:
        assert parse_element_string(scanned).ais == {"01": "09506000134352", "10": "AB1"}
        return
    with pytest.raises(InvalidGs1) as caught:
        parse_element_string(scanned)
    assert words in caught.value.detail
