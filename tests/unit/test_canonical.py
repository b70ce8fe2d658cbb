"""The canonicaliser: every input kind of the contract, and its round trips."""

from __future__ import annotations

import re

import pytest
from biip.gs1_messages import GS1Message
from biip.upc import Upc
from hypothesis import given
from hypothesis import strategies as st

from barcode_service.canonical import (
    attempted_kind,
    canonical_gtin,
    canonicalise,
    format_hint,
    isbn10_check,
    isbn10_to_ean13,
)
from barcode_service.errors import InvalidGtin, InvalidParameter
from barcode_service.gtin import check_digit, parse_gtin

ELEMENT_STRING = "(01)09506000134352(17)271231(10)AB1"
AI = {"01": "09506000134352", "17": "271231", "10": "AB1"}


@pytest.mark.parametrize(
    ("text", "kind", "gtin14"),
    [
        ("6901234567892", "gtin", "06901234567892"),
        ("690 1234 56789 2", "gtin", "06901234567892"),
        ("690-1234-567892", "gtin", "06901234567892"),
        ("036000291452", "gtin", "00036000291452"),
        ("12345670", "gtin", "00000012345670"),
        ("10614141000415", "gtin", "10614141000415"),
        ("04252614", "upc_e", "00042100005264"),
        ("0425 2614", "upc_e", "00042100005264"),
        ("0-306-40615-2", "isbn10", "09780306406157"),
        ("080442957X", "isbn10", "09780804429573"),
        ("080442957x", "isbn10", "09780804429573"),
        (ELEMENT_STRING, "gs1_element_string", "09506000134352"),
        ("(01) 09506000134352 (17) 271231", "gs1_element_string", "09506000134352"),
        ("010950600013435217271231\x1d10AB1", "gs1_element_string", "09506000134352"),
        ("]C1010950600013435217271231\x1d10AB1", "gs1_element_string", "09506000134352"),
        ("]d2010950600013435217271231\x1d10AB1", "gs1_element_string", "09506000134352"),
        ("]Q3010950600013435217271231\x1d10AB1", "gs1_element_string", "09506000134352"),
        ("]e00109506000134352", "gs1_element_string", "09506000134352"),
        ("010950600013435217271231", "gs1_element_string", "09506000134352"),
        ("]E06901234567892", "gtin", "06901234567892"),
        ("https://id.gs1.org/01/09506000134352/10/AB1?17=271231", "gs1_digital_link", None),
        ("HTTPS://shop.example.com/p/01/09506000134352?17=271231", "gs1_digital_link", None),
        ("]Q1https://id.gs1.org/01/09506000134352", "gs1_digital_link", None),
        ("2012345678903", "restricted", "02012345678903"),
        ("20123451", "restricted", "00000020123451"),
    ],
)
def test_every_input_kind(text: str, kind: str, gtin14: str | None) -> None:
    found = canonicalise(text)
    assert found.kind == kind
    assert found.gtin is not None
    assert found.gtin.gtin14 == (gtin14 or "09506000134352")


def test_element_string_and_digital_link_report_their_ais() -> None:
    assert canonicalise(ELEMENT_STRING).ai_values() == AI
    link = canonicalise("https://example.com/01/09506000134352/10/AB1?17=271231&x=1")
    assert link.ai_values() == AI
    assert link.gtin is not None
    assert link.gtin.code == "09506000134352"  # AI (01) holds a GTIN-14
    assert link.gtin.format == "GTIN-14"


def test_the_phone_upc_e_is_its_upc_a_not_a_wrong_did_you_mean() -> None:
    gtin = canonical_gtin("04252614")
    assert gtin.code == "042100005264"
    assert gtin.format == "UPC-A"
    assert gtin.upstream_code == "0042100005264"


def test_a_valid_ean8_stays_ean8_unless_the_scanner_says_upc_e() -> None:
    assert canonicalise("12345670").kind == "gtin"
    as_upce = canonicalise("12345670", "UPC_E")
    assert as_upce.kind == "upc_e"
    assert as_upce.gtin is not None
    assert as_upce.gtin.code == "123456000070"
    with pytest.raises(InvalidGtin, match="check digit of 04252614 is wrong: expected 0"):
        canonicalise("04252614", "ean-8")


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("UPC_E", "upc_e"),
        ("upc-e", "upc_e"),
        ("FORMAT_UPC_E", "upc_e"),
        ("org.gs1.UPC-E", "upc_e"),
        ("EAN_8", "ean_8"),
        ("EAN-13", None),
        ("QR_CODE", None),
        (None, None),
    ],
)
def test_scanner_format_names_give_hints(name: str | None, hint: str | None) -> None:
    assert format_hint(name) == hint


def test_an_overlong_format_is_a_parameter_error() -> None:
    with pytest.raises(InvalidParameter) as caught:
        format_hint("x" * 65)
    assert caught.value.extra["invalid_params"][0]["name"] == "format"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("04252615", "neither a valid EAN-8 (check digit expected 0, got 5) nor a valid UPC-E"),
        ("22222222", "check digit of 22222222 is wrong: expected 0"),
        ("52222222", "expected"),
        ("0-306-40615-3", "read as ISBN-10: check digit is wrong: expected 2, got 3"),
        ("(01)09506000134351", "AI (01)"),
        ("(01)09506000134351", "expected 2, got 1"),
        ("(99", "GS1 element string"),
        ("(17)991399", "GS1 element string"),
        ("]C101095060001343", "GS1 element string"),
        ("01\x1d99", "GS1 element string"),
        ("https://id.gs1.org/01/09506000134351", "Digital Link URI: AI (01) 09506000134351: check"),
        ("https://id.gs1.org/01/095060001343521", "Digital Link"),
        ("https://id.gs1.org/01", "Digital Link"),
        ("6901234567891", "expected 2, got 1"),
        ("69012345678x2", "only digits"),
        ("12345", "got 5"),
        ("", "empty"),
        ("x" * 3000, "at most 2048"),
        ("52222222", "check digit"),
    ],
)
def test_bad_codes_say_what_was_understood_and_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidGtin, match=re.escape(message)):
        canonical_gtin(text)


def test_upc_e_with_a_bad_number_system_or_check_digit_is_refused_when_asked_for() -> None:
    with pytest.raises(InvalidGtin, match="number system 0 or 1, not 5"):
        canonicalise("52222222", "UPC_E")
    with pytest.raises(InvalidGtin, match="read as UPC-E: check digit is wrong: expected 4"):
        canonicalise("04252615", "UPC_E")


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("https://example.com/menu", "a URL that is not a GS1 Digital Link"),
        ("(00)106141412345678908", "no GTIN (AI 01)"),
        ("hello world", ""),
        ("]Q1hello", ""),
    ],
)
def test_text_without_a_gtin_is_kind_other_or_gs1_without_gtin(text: str, understood: str) -> None:
    found = canonicalise(text)
    assert found.gtin is None
    assert found.kind in ("other", "gs1_element_string")
    assert understood in found.understood
    with pytest.raises(InvalidGtin):
        found.require_gtin()


def test_a_plain_url_says_why_a_lookup_refuses_it() -> None:
    with pytest.raises(InvalidGtin, match=r"not a GS1 Digital Link .*; a product lookup needs"):
        canonical_gtin("https://example.com/menu")


def test_non_string_is_refused() -> None:
    with pytest.raises(InvalidGtin, match="string"):
        canonicalise(6901234567892)  # type: ignore[arg-type]


def test_variable_measure_is_parsed_when_the_region_is_set() -> None:
    plain = canonicalise("2302148210869")
    assert plain.restricted
    assert plain.gtin is not None
    assert plain.gtin.measure is None
    swedish = canonicalise("2302148210869", rcn_region="se")
    assert swedish.gtin is not None
    measure = swedish.gtin.measure
    assert measure is not None
    assert measure.weight_kg == "1.086"
    assert measure.item_reference == "021482"
    assert "a weight of 1.086 kg" in swedish.gtin.restriction_reason()
    assert measure.to_dict()["region"] == "se"


def test_variable_price_names_its_currency() -> None:
    measure = parse_gtin("2012345001503", rcn_region="se").measure
    assert measure is not None
    assert (measure.price, measure.currency, measure.weight_kg) == ("1.5", "SEK", None)
    assert "a price of 1.5 SEK" in parse_gtin("2012345001503", rcn_region="se").restriction_reason()
    assert parse_gtin("2012345001503", rcn_region="de").measure is None  # no rule for 20 there


def test_company_restricted_numbers_have_no_measure() -> None:
    assert parse_gtin("0412345678903", rcn_region="se").measure is None


# --- properties -----------------------------------------------------------------------

upc_a_with_upc_e = st.builds(
    lambda system, body: Upc.parse(f"{system}{body}").as_upc_a(),
    st.sampled_from("01"),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)


@given(upc_a_with_upc_e)
def test_upc_e_round_trips_to_its_upc_a(upc_a: str) -> None:
    upc_e = Upc.parse(upc_a).as_upc_e()
    found = canonicalise(upc_e, "UPC_E")
    assert found.kind == "upc_e"
    assert found.gtin is not None
    assert found.gtin.code == upc_a
    assert found.gtin.gtin14 == upc_a.zfill(14)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_isbn10_round_trips_to_its_978_ean13(payload: str) -> None:
    isbn10 = payload + isbn10_check(payload)
    found = canonicalise(isbn10)
    assert found.kind == "isbn10"
    assert found.gtin is not None
    ean13 = found.gtin.code
    assert ean13 == isbn10_to_ean13(isbn10)
    assert ean13.startswith("978")
    # ...and back: the ISBN-10 is the 978 EAN-13's middle nine digits plus its check.
    assert ean13[3:12] + isbn10_check(ean13[3:12]) == isbn10


gtin14s = st.text(alphabet="0123456789", min_size=13, max_size=13).map(
    lambda payload: payload + str(check_digit(payload))
)
lots = st.text(alphabet="ABCDEFGHJK0123456789", min_size=1, max_size=20)
dates = st.dates().map(lambda d: d.strftime("%y%m%d"))


@given(gtin14s, dates, lots)
def test_element_string_and_digital_link_give_the_same_ais(
    gtin14: str, date: str, lot: str
) -> None:
    hri = f"(01){gtin14}(17){date}(10){lot}"
    message = GS1Message.parse_hri(hri)
    uri = message.as_gs1_digital_link_uri().as_uri(domain="scan.example.com")
    from_hri = canonicalise(hri)
    from_uri = canonicalise(uri)
    from_gs = canonicalise(f"]d201{gtin14}17{date}10{lot}")
    assert from_hri.ai_values() == from_uri.ai_values() == from_gs.ai_values()
    assert from_hri.ai_values() == {"01": gtin14, "17": date, "10": lot}
    assert from_hri.gtin == from_uri.gtin == from_gs.gtin
    assert from_hri.gtin is not None
    assert from_hri.gtin.gtin14 == gtin14


@given(st.text(max_size=60), st.sampled_from([None, "UPC_E", "EAN_8", "QR_CODE"]))
def test_any_text_is_understood_or_refused_with_invalid_gtin(text: str, fmt: str | None) -> None:
    try:
        found = canonicalise(text, fmt)
    except InvalidGtin as error:
        refused: InvalidGtin | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.detail
    elif found.gtin is not None:
        assert len(found.gtin.gtin14) == 14
        assert found.gtin.gtin14.isdigit()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("]C1010950600013435", "gs1_element_string"),
        ("]Q1https://id.gs1.org/01/123", "gs1_digital_link"),
        ("]E0690123456789", "gtin"),
        ("(01)123", "gs1_element_string"),
        ("0109506000134351", "gs1_element_string"),
        ("123456789012345", "gtin"),
        ("https://example.com/x", "other"),
        ("0-306-40615-3", "isbn10"),
        ("04252615", "upc_e"),
        ("6901234567891", "gtin"),
        ("hello", "other"),
    ],
)
def test_attempted_kind_names_what_a_broken_code_was_read_as(text: str, kind: str) -> None:
    assert attempted_kind(text) == kind


def test_a_symbology_identifier_alone_is_an_empty_code() -> None:
    with pytest.raises(InvalidGtin, match="empty"):
        canonicalise("]E0")


@pytest.mark.parametrize(
    "element_string", ["(01)09506000134352(17)271231(10)AB1", "(01)09506000134352(21)XYZ"]
)
def test_what_the_generator_prints_the_canonicaliser_reads_back(element_string: str) -> None:
    """One GS1 parser (gs1.py) for both: a Digital Link made from an element string reads
    back as the same AIs, and so does the element string itself."""
    from barcode_service.gs1 import parse_element_string

    message = parse_element_string(element_string)
    for text in (element_string, message.digital_link()):
        found = canonicalise(text)
        assert dict(found.ai) == message.ais
        assert found.gtin is not None
        assert found.gtin.gtin14 == "09506000134352"


def test_a_gs1_check_digit_error_reads_the_same_in_generate_and_scans() -> None:
    from barcode_service.errors import InvalidGs1
    from barcode_service.gs1 import parse_element_string

    with pytest.raises(InvalidGs1) as generated:
        parse_element_string("(01)09506000134351")
    with pytest.raises(InvalidGtin) as scanned:
        canonicalise("(01)09506000134351")
    assert generated.value.detail in scanned.value.detail
    assert "did you mean 09506000134352?" in generated.value.detail


# --- GS1 by GS1's rules: the same answer as generation --------------------------------


@pytest.mark.parametrize(
    ("text", "ai", "status", "gtin14", "read"),
    [
        (
            "(01)09506000134352(4326)201200",
            "4326",
            "invalid_gs1",
            "09506000134352",
            {"01": "09506000134352", "4326": "201200"},
        ),
        ("(4326)201200", "4326", "invalid_gs1", None, {"4326": "201200"}),
        *[
            (
                f"(01)09506000134352(7007){'1' * n}",
                "7007",
                "invalid_gs1",
                "09506000134352",
                {"01": "09506000134352", "7007": "1" * n},
            )
            for n in (9, 11, 13)
        ],
        ("(8003)012345678901240", "8003", "invalid_gs1", None, {"8003": "012345678901240"}),
        (
            "https://x.example/8003/012345678901240",
            "8003",
            "invalid_gs1",
            None,
            {"8003": "012345678901240"},
        ),
        (
            "https://x.example/01/09506000134352?8003=012345678901240",
            "8003",
            "invalid_gs1",
            "09506000134352",
            {"01": "09506000134352", "8003": "012345678901240"},
        ),
        ("(400)ABC(400)AB", "400", "invalid_gs1", None, {"400": "AB"}),
        (  # the repeat is named; the GTIN, wrong too, is not reported as read
            "(01)09506000134351(10)A(10)B",
            "10",
            "invalid_gs1",
            None,
            {"01": "09506000134351", "10": "B"},
        ),
        ("https://gs1.example/01/123", "01", "invalid_gtin", None, {"01": "123"}),
        ("(01)09506000134351", "01", "invalid_gtin", None, {"01": "09506000134351"}),
        (
            "]d20109506000134352" + "4326201200",
            "4326",
            "invalid_gs1",
            "09506000134352",
            {"01": "09506000134352", "4326": "201200"},
        ),
        (
            "01095060001343524326201200",  # digits only: GS1 data that splits into AIs
            "4326",
            "invalid_gs1",
            "09506000134352",
            {"01": "09506000134352", "4326": "201200"},
        ),
    ],
)
def test_gs1_data_breaking_gs1_rules_is_refused_and_reported_as_read(
    text: str, ai: str, status: str, gtin14: str | None, read: dict[str, str]
) -> None:
    from barcode_service.canonical import InvalidGs1Code

    with pytest.raises(InvalidGs1Code) as caught:
        canonicalise(text)
    error = caught.value
    assert (error.ai, error.scan_status) == (ai, status)
    assert f"AI ({ai})" in error.detail
    assert error.to_problem()["invalid_ai"] == ai
    assert error.to_problem()["code"] == "invalid_gtin"  # a lookup's bad code, as ever
    assert error.read.ai_values() == read
    assert (error.read.gtin.gtin14 if error.read.gtin else None) == gtin14
    assert error.read.kind == attempted_kind(text)


@pytest.mark.parametrize(
    "content",
    [
        "(01)09506000134352(4326)201200",
        "(01)09506000134352(7007)123456789",
        "(8003)012345678901240",
        "(400)ABC(400)AB",
        "(01)09506000134352(10)AB1(10)AB2",
        "https://x.example/8003/012345678901240",
        "https://gs1.example/01/123",
        "https://a.example/01/09506000134352?99=",
    ],
)
def test_generation_refuses_what_scans_refuse(content: str) -> None:
    """A code we print is a code we read: generation answers the same AI with a 400."""
    from barcode_service.canonical import InvalidGs1Code
    from barcode_service.errors import InvalidGs1
    from barcode_service.symbologies import find_symbology, validate_content

    with pytest.raises(InvalidGs1Code) as scanned:
        canonicalise(content)
    for name in ("gs1_datamatrix", "gs1_qrcode", "gs1_digital_link"):
        with pytest.raises(InvalidGs1) as generated:
            validate_content(find_symbology(name), content)
        assert generated.value.status == 400
        assert scanned.value.ai is None or f"AI ({scanned.value.ai})" in generated.value.detail
    if not content.startswith("http"):
        for name in ("gs1_128", "databar_expanded"):
            with pytest.raises(InvalidGs1):
                validate_content(find_symbology(name), content)
