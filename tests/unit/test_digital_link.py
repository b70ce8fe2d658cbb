"""GS1 Digital Link URIs by their grammar (digital_link.py): what GS1's toolkit accepts
(with zero-suppressed GTINs allowed) we read, what it refuses we refuse."""

from __future__ import annotations

import pytest

from barcode_service.digital_link import (
    KEY_QUALIFIERS,
    NOT_DATA_ATTRIBUTES,
    build,
    is_digital_link,
    parse,
)
from barcode_service.gs1_syntax import Gs1SyntaxError

GTIN = "09506000134352"


@pytest.mark.parametrize(
    ("uri", "elements"),
    [
        (f"https://id.gs1.org/01/{GTIN}", [("01", GTIN)]),
        (f"HTTPS://ID.GS1.ORG/01/{GTIN}", [("01", GTIN)]),
        (f"http://a/01/{GTIN}", [("01", GTIN)]),
        (f"https://shop.example/any/stem/01/{GTIN}", [("01", GTIN)]),
        # the rightmost key starts the GS1 part; AIs before it belong to the host's path
        (
            f"https://a.example/00/stem/00/106141411234567897?02={GTIN}&37=25",
            [("00", "106141411234567897"), ("02", GTIN), ("37", "25")],
        ),
        (f"https://a.example:8443/01/{GTIN}", [("01", GTIN)]),
        (f"https://192.0.2.7/01/{GTIN}", [("01", GTIN)]),
        (f"https://[2001:db8::1]/01/{GTIN}", [("01", GTIN)]),
        (f"https://xn--fsq.xn--0zwm56d/01/{GTIN}", [("01", GTIN)]),
        # zero-suppressed GTINs are padded to 14 digits, in the path and in the query
        ("https://a/01/9506000134352", [("01", GTIN)]),
        ("https://a/01/036000291452", [("01", "00036000291452")]),
        ("https://a/01/96385074", [("01", "00000096385074")]),
        (
            "https://a/8004/95060001343ABC?01=96385074",
            [("8004", "95060001343ABC"), ("01", "00000096385074")],
        ),
        # qualifiers: any of 22, 10, 21 in that order, or 235 alone
        (
            f"https://a/01/{GTIN}/22/2A/10/AB1/21/S%2F42?17=271231",
            [("01", GTIN), ("22", "2A"), ("10", "AB1"), ("21", "S/42"), ("17", "271231")],
        ),
        (f"https://a/01/{GTIN}/21/S42", [("01", GTIN), ("21", "S42")]),
        (f"https://a/01/{GTIN}/235/XYZ?10=ABC", [("01", GTIN), ("235", "XYZ"), ("10", "ABC")]),
        ("https://a/414/9506000134352/254/32a%2Fb", [("414", "9506000134352"), ("254", "32a/b")]),
        # other query parameters are the link's own: ignored, however they look
        (
            f"https://a/01/{GTIN}?linkType=gs1:pip&&x&17=271231&&lang=en&=",
            [("01", GTIN), ("17", "271231")],
        ),
        (f"https://a/01/{GTIN}/10/A+B", [("01", GTIN), ("10", "A+B")]),  # "+" is "+" in a path
        (f"https://a/01/{GTIN}/10/AB1#fragment?17=991399", [("01", GTIN), ("10", "AB1")]),
        (
            f"https://a/01/{GTIN}?3103=000195&3922=0299",
            [("01", GTIN), ("3103", "000195"), ("3922", "0299")],
        ),
    ],
)
def test_what_the_grammar_accepts(uri: str, elements: list[tuple[str, str]]) -> None:
    assert parse(uri) == tuple(elements)
    assert is_digital_link(uri)


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        # primary keys of their exact length: GS1 has no GTIN shorter than 8 digits
        ("https://gs1.example/01/123", "AI (01) 123: 3 characters"),
        ("https://gs1.example/01/123456789", "AI (01) 123456789: 9 characters"),
        ("https://gs1.example/01/095060001343521", "AI (01)"),
        ("https://gs1.example/00/10614141123456789", "AI (00)"),
        # query AIs checked like element-string AIs
        (f"https://a/01/{GTIN}?99=", "AI (99) has no value"),
        (f"https://a/01/{GTIN}?17=271331", "AI (17) 271331"),
        (f"https://a/01/{GTIN}?4326=201200", "invalid day '00'"),
        ("https://a/8003/012345678901240", "GRAI check digit is wrong"),
        (f"https://a/01/{GTIN}?10=A%20B", "AI (10)"),  # a space in a lot
        (f"https://a/01/{GTIN}?99=A+B", "AI (99)"),  # "+" is a space in a query
        (f"https://a/01/{GTIN}?99=A%00B", "NUL"),
        (f"https://a/01/{GTIN}?999=x", "999 is all digits but no GS1 AI"),
        (f"https://a/01/{GTIN}?89=x", "89 is all digits but no GS1 AI"),
        # qualifiers: in order, one alternative, and only in the path
        (f"https://a/01/{GTIN}/10/AB1/22/2A", "not followed by its qualifiers in order"),
        (f"https://a/01/{GTIN}/10/AB1/235/X", "not followed by its qualifiers in order"),
        (f"https://a/01/{GTIN}/99/X", "not followed by its qualifiers in order"),
        (f"https://a/01/{GTIN}?10=AB1", "AI (10) qualifies (01): it belongs in the path"),
        (f"https://a/01/{GTIN}/10/AB1?21=S1", "AI (21) is not a data attribute"),
        (f"https://a/01/{GTIN}/10/AB1?10=AB1", "AI (10) appears twice"),
        (f"https://a/01/{GTIN}?17=271231&17=271231", "AI (17) appears twice"),
        (f"https://a/8004/95060001343ABC?01={GTIN}&01={GTIN}", "AI (01) appears twice"),
        # the path's shape
        (f"https://a/01/{GTIN}/", "no GS1 primary identifier"),
        (f"https://a/01//{GTIN}", "no GS1 primary identifier"),
        (f"https://a/01/{GTIN}/10/", "AI (10) has no value"),
        ("https://id.gs1.org/01", "no GS1 primary identifier"),
        # odd hosts and forms GS1's toolkit refuses
        (f"HtTpS://a/01/{GTIN}", "scheme"),
        (f"https:///01/{GTIN}", "host"),
        (f"https://$a/01/{GTIN}", "host"),
        (f"https://a_b/01/{GTIN}", "host"),
        (f"https://[fe80::1%25lo]/01/{GTIN}", "host"),
        (f"https://user@a/01/{GTIN}", "host"),
        (f"https://a/01/{GTIN}/10/A<B", "character '<'"),
        (f"https://a/01/{GTIN}/10/A B", "character ' '"),
        (f"https://a/01/{GTIN}/10/Aé", "character 'é'"),
        (f"https://a/01/{GTIN}/10/A{{B}}", "character '{'"),
    ],
)
def test_what_the_grammar_refuses(uri: str, words: str) -> None:
    with pytest.raises(Gs1SyntaxError) as caught:
        parse(uri)
    assert words in caught.value.detail


def test_a_refused_ai_value_keeps_what_was_read() -> None:
    with pytest.raises(Gs1SyntaxError) as caught:
        parse(f"https://a/01/{GTIN}?4326=201200")
    assert caught.value.ai == "4326"
    assert caught.value.pairs == (("01", GTIN), ("4326", "201200"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com/menu", False),
        ("https://example.com/", False),
        ("https://example.com", False),
        ("https://example.com/p?01=09506000134352", False),  # a key only in the query
        ("ftp://a/01/09506000134352", False),
        ("https://id.gs1.org/01", True),
        ("hTTps://a/x/414/9506000134352", True),
    ],
)
def test_which_urls_are_read_as_digital_links(text: str, expected: bool) -> None:
    assert is_digital_link(text) is expected


@pytest.mark.parametrize(
    ("elements", "uri"),
    [
        (
            [("01", GTIN), ("17", "271231"), ("10", "AB1")],
            f"https://id.gs1.org/01/{GTIN}/10/AB1?17=271231",
        ),
        (
            [("01", GTIN), ("21", "S/1"), ("22", "2A"), ("3103", "000195")],
            f"https://id.gs1.org/01/{GTIN}/22/2A/21/S%2F1?3103=000195",
        ),
        ([("01", GTIN), ("235", "T1")], f"https://id.gs1.org/01/{GTIN}/235/T1"),
        (
            [("00", "106141411234567897"), ("37", "25"), ("02", GTIN)],
            f"https://id.gs1.org/00/106141411234567897?02={GTIN}&37=25",
        ),
    ],
)
def test_element_strings_are_written_as_links_that_read_back(
    elements: list[tuple[str, str]], uri: str
) -> None:
    written = build(tuple(elements), "https://id.gs1.org")
    assert written == uri
    assert sorted(parse(written)) == sorted(elements)
    assert build(tuple(elements), "brand.example/shop/").startswith("https://brand.example/shop/")


@pytest.mark.parametrize(
    ("elements", "words"),
    [
        ([("10", "AB1"), ("17", "271231")], "needs a primary key"),
        ([("01", GTIN), ("10", "A"), ("235", "T")], "AI (235) is not a data attribute"),
    ],
)
def test_what_has_no_digital_link_is_refused(elements: list[tuple[str, str]], words: str) -> None:
    with pytest.raises(Gs1SyntaxError, match=words.replace("(", r"\(").replace(")", r"\)")):
        build(tuple(elements), "https://id.gs1.org")


def test_the_key_table_agrees_with_biips() -> None:
    """Our key-qualifier table is the dictionary's `dlpkey` attributes; biip keeps the same
    keys and qualifiers (it lists (235) as a fourth qualifier of (01), not an alternative)."""
    from biip.gs1_digital_link_uris import _PRIMARY_IDENTIFIER_MAP

    assert set(KEY_QUALIFIERS) == set(_PRIMARY_IDENTIFIER_MAP)
    for key, sequences in KEY_QUALIFIERS.items():
        ours = {q for sequence in sequences for q in sequence}
        theirs = {q.ai.ai for q in _PRIMARY_IDENTIFIER_MAP[key].qualifiers}
        assert ours == theirs, key
    qualifiers = {q for sequences in KEY_QUALIFIERS.values() for s in sequences for q in s}
    assert qualifiers - {"10"} <= NOT_DATA_ATTRIBUTES  # (10) is also a data attribute
