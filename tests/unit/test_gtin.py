import pytest
from hypothesis import given
from hypothesis import strategies as st

from barcode_service.errors import InvalidGtin
from barcode_service.gtin import check_digit, normalise, parse_gtin


@pytest.mark.parametrize(
    ("raw", "gtin14", "fmt"),
    [
        ("6901234567892", "06901234567892", "EAN-13"),
        ("690-1234-56789 2", "06901234567892", "EAN-13"),
        (" 4006381333931 ", "04006381333931", "EAN-13"),
        ("036000291452", "00036000291452", "UPC-A"),
        ("12345670", "00000012345670", "EAN-8"),
        ("10614141000415", "10614141000415", "GTIN-14"),
    ],
)
def test_valid_codes_normalise_to_gtin14(raw: str, gtin14: str, fmt: str) -> None:
    gtin = parse_gtin(raw)
    assert gtin.gtin14 == gtin14
    assert gtin.format == fmt
    assert not gtin.restricted


def test_upc_a_and_ean13_share_the_cache_key() -> None:
    assert parse_gtin("036000291452").gtin14 == parse_gtin("0036000291452").gtin14


def test_upstream_code_is_ean13_or_ean8() -> None:
    assert parse_gtin("036000291452").upstream_code == "0036000291452"
    assert parse_gtin("06901234567892").upstream_code == "6901234567892"
    assert parse_gtin("12345670").upstream_code == "12345670"
    assert parse_gtin("10614141000415").upstream_code == "10614141000415"


def test_wrong_check_digit_names_the_expected_digit() -> None:
    with pytest.raises(InvalidGtin, match="expected 2, got 1"):
        parse_gtin("6901234567891")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("  - ", "empty"),
        ("69012345678x2", "only digits"),
        ("12345", "got 5"),
        ("123456789012345", "got 15"),
        ("1" * 100, "at most 14"),
    ],
)
def test_bad_input_says_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(InvalidGtin, match=message):
        parse_gtin(raw)


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidGtin):
        normalise(6901234567892)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw", ["2012345678903", "0212345678909", "0412345678903", "20123451", "01234565"]
)
def test_restricted_numbers_are_flagged(raw: str) -> None:
    gtin = parse_gtin(raw)
    assert gtin.restricted
    assert "restricted circulation number" in gtin.restriction_reason()


def test_gs1_prefix_names_the_issuer() -> None:
    gtin = parse_gtin("6901234567892")
    assert gtin.gs1_prefix is not None
    assert gtin.gs1_prefix.prefix == "690"
    assert "China" in gtin.gs1_prefix.issuer
    assert parse_gtin("9781234567897").gs1_prefix.issuer.startswith("Bookland")  # type: ignore[union-attr]


@given(
    st.text(alphabet="0123456789", min_size=7, max_size=13).filter(
        lambda s: len(s) in (7, 11, 12, 13)
    )
)
def test_any_payload_with_its_check_digit_is_valid(payload: str) -> None:
    code = payload + str(check_digit(payload))
    assert parse_gtin(code).gtin14 == code.zfill(14)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(1, 9))
def test_every_wrong_check_digit_is_rejected(payload: str, offset: int) -> None:
    wrong = (check_digit(payload) + offset) % 10
    with pytest.raises(InvalidGtin, match="check digit"):
        parse_gtin(payload + str(wrong))


@given(st.text(max_size=40))
def test_arbitrary_text_either_parses_or_raises_invalid_gtin(raw: str) -> None:
    try:
        gtin = parse_gtin(raw)
    except InvalidGtin:
        return
    assert len(gtin.gtin14) == 14
    assert gtin.gtin14.isdigit()
