"""Symbology identifiers: each one listed is read by its payload; a payload that does not
fit its identifier, or a `]` without an identifier, is a bad code, never a crash."""

from __future__ import annotations

import pytest

from barcode_service.canonical import attempted_kind, canonicalise
from barcode_service.errors import InvalidGtin
from barcode_service.symbology_id import GS1_IDENTIFIERS, IDENTIFIERS

GS1_DATA = "010950600013435217271231\x1d10AB1"
AI = {"01": "09506000134352", "17": "271231", "10": "AB1"}


@pytest.mark.parametrize("code", sorted(GS1_IDENTIFIERS))
def test_every_gs1_identifier_reads_gs1_data(code: str) -> None:
    found = canonicalise(code + GS1_DATA)
    assert found.kind == "gs1_element_string"
    assert found.ai_values() == AI
    assert attempted_kind(code + GS1_DATA) == "gs1_element_string"


def test_dotcode_identifiers_are_listed_and_read() -> None:
    assert {"]J0", "]J1"} <= set(IDENTIFIERS)
    assert canonicalise("]J1" + GS1_DATA).ai_values() == AI
    plain = canonicalise("]J06901234567892")
    assert (plain.kind, plain.gtin and plain.gtin.gtin14) == ("gtin", "06901234567892")


@pytest.mark.parametrize(
    ("text", "kind", "gtin14"),
    [
        ("]E06901234567892", "gtin", "06901234567892"),
        ("]E00036000291452", "gtin", "00036000291452"),  # a UPC-A as its EAN-13
        ("]E096385074", None, None),  # EAN-8 digits under the EAN-13 identifier
        ("]E496385074", "gtin", "00000096385074"),
        ("]E3690123456789212", "gtin", "06901234567892"),  # + 2-digit add-on
        ("]E3690123456789212345", "gtin", "06901234567892"),  # + 5-digit add-on
        ("]E39638507412", "gtin", "00000096385074"),
        ("]E212345", "other", None),  # an add-on alone holds no GTIN
        ("]C06901234567892", "gtin", "06901234567892"),
        ("]Q1https://id.gs1.org/01/09506000134352", "gs1_digital_link", "09506000134352"),
        ("]d1hello", "other", None),
        ("]z06901234567892", "gtin", "06901234567892"),  # not listed: dropped, read as text
    ],
)
def test_retail_and_text_identifiers(text: str, kind: str | None, gtin14: str | None) -> None:
    if kind is None:
        with pytest.raises(InvalidGtin, match="announces EAN-13/UPC-A/UPC-E"):
            canonicalise(text)
        return
    found = canonicalise(text)
    assert found.kind == kind
    assert (found.gtin.gtin14 if found.gtin else None) == gtin14
    assert found.text == text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("]", "starts with ']' but not with a symbology identifier"),
        ("]E", "not with a symbology identifier"),
        ("]]]", "not with a symbology identifier"),
        ("]é0123", "not with a symbology identifier"),
        ("]E0", "nothing after it"),
        ("]E0   ", "nothing after it"),
        ("]E0690123456789", "got '690123456789' (12 characters)"),  # 12 digits: not UPC-A
        ("]E069012345678", "(11 characters)"),
        ("]E06901234567891", "expected 2, got 1"),
        ("]E46901234567892", "announces EAN-8, which is 8 digits"),
        ("]E3690123456789", "add-on"),
        ("]C1", "nothing after it"),
        ("]d2https://id.gs1.org/01/09506000134352", "no GS1 AI at character 1"),
        ("]Q3(01)09506000134351", "expected 2, got 1"),
    ],
)
def test_a_payload_that_does_not_fit_is_refused(text: str, words: str) -> None:
    with pytest.raises(InvalidGtin) as caught:
        canonicalise(text)
    assert words in caught.value.detail


def test_identifiers_are_never_nested() -> None:
    """One identifier is read; a second is text (and a deep pile of them cannot recurse)."""
    found = canonicalise("]Q1" * 600 + "x")
    assert found.kind == "other"
    assert attempted_kind("]Q1" * 600 + "x") == "other"
    assert canonicalise("]Q1]E06901234567892").kind == "other"
