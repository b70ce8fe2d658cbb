"""GS1's syntax rules (gs1_syntax.py): zint's compiled dictionary, plus our narrow checks.

Each case names the AI it is about. Values are made up here, one per rule family the
GS1 Barcode Syntax Dictionary names (lengths, character sets, check digits, dates,
ISO codes, IBAN, coupons, company prefixes, ...).
"""

from __future__ import annotations

from importlib.metadata import version

import pytest
import zint

from barcode_service.errors import InvalidGs1
from barcode_service.gs1_syntax import (
    DICTIONARY_RELEASE,
    ZINT_VERSION,
    Gs1SyntaxError,
    is_known_ai,
    verify,
)

GTIN = ("01", "09506000134352")


def test_the_dictionary_release_is_pinned_with_zint() -> None:
    """zint-bindings 1.2.2 bundles zint 2.15.0, built from dictionary release 2025-01-30:
    moving either pin must move the statement in docs/api.md with it."""
    assert version("zint-bindings") == "1.2.2"
    assert zint.__upstream_version__ == ZINT_VERSION == "2.15.0"
    assert DICTIONARY_RELEASE == "2025-01-30"


def refused(*elements: tuple[str, str]) -> Gs1SyntaxError:
    with pytest.raises(Gs1SyntaxError) as caught:
        verify(elements)
    assert isinstance(caught.value, InvalidGs1)
    assert caught.value.status == 400
    return caught.value


@pytest.mark.parametrize(
    "elements",
    [
        [GTIN, ("17", "271231"), ("10", "AB1")],
        [GTIN, ("17", "271200")],  # (17) takes day 00: "end of month"
        [GTIN, ("7007", "250101")],  # harvest date, one day
        [GTIN, ("7007", "250101250131")],  # harvest date, from-to
        [GTIN, ("3103", "000195"), ("3922", "0299")],
        [("00", "106141411234567897"), ("02", "09506000134352"), ("37", "25")],
        [("414", "9506000134352"), ("254", "32a/b")],
        [("8003", "095060001343520AB")],  # GRAI with serial
        [("8007", "DE44500105175407324931")],  # IBAN
        [("4307", "DE"), ("422", "276"), ("3910", "978123")],  # ISO 3166 / 4217
        [("8013", "1987654Ad4X4bL5ttr2310c2K")],  # GMN with its check pair
        [GTIN, ("4309", "00000000010000000000")],  # latitude and longitude
        [("99", "A" * 90)],
        [GTIN, ("10", "AB1"), ("10", "AB1")],  # a repeat with the same value
    ],
)
def test_valid_gs1_data_passes(elements: list[tuple[str, str]]) -> None:
    verify(elements)


@pytest.mark.parametrize(
    ("elements", "ai", "words"),
    [
        # lengths
        ([GTIN, ("7007", "123456789")], "7007", "9 characters"),
        ([GTIN, ("7007", "12345678901")], "7007", "11 characters"),
        ([GTIN, ("7007", "1234567890123")], "7007", "13 characters"),
        ([("01", "0950600013435")], "01", "13 characters"),
        ([GTIN, ("10", "A" * 21)], "10", "21 characters"),
        # check digits
        ([("01", "09506000134351")], "01", "did you mean 09506000134352?"),
        ([("02", "09506000134351"), ("37", "1")], "02", "expected 2, got 1"),
        ([("00", "106141411234567898")], "00", "SSCC check digit is wrong: expected 7"),
        ([("414", "9506000134353")], "414", "GLN check digit is wrong"),
        ([("8003", "012345678901240")], "8003", "GRAI check digit is wrong: expected 8, got 4"),
        ([("8013", "1987654Ad4X4bL5ttr2310c2L")], "8013", "check"),
        # dates
        ([GTIN, ("17", "271331")], "17", "invalid month '13'"),
        ([GTIN, ("17", "270230")], "17", "invalid day '30'"),
        ([("00", "106141411234567897"), ("4326", "201200")], "4326", "invalid day '00'"),
        # character sets and linters
        ([GTIN, ("10", "AB 1")], "10", "CSET 82"),
        ([("8010", "95060001_")], "8010", "CSET 39"),
        ([GTIN, ("4307", "XX")], "4307", "country code"),
        ([GTIN, ("422", "999")], "422", "country code"),
        ([GTIN, ("3910", "001123")], "3910", "currency code"),
        ([("8007", "DE44500105175407324932")], "8007", "IBAN"),
        ([("8110", "0123456123456711")], "8110", ""),  # a coupon's fields run short
        ([("401", "123")], "401", "GS1 Company Prefix"),
        ([GTIN, ("4309", "18000000010000000000")], "4309", "latitude"),
        ([("8026", "123456789012310302")], "8026", "exceeds"),
        ([GTIN, ("4321", "2")], "4321", ""),
        ([("8030", "ABC=123"), ("00", "106141411234567897")], "8030", ""),
        # AIs
        ([GTIN, ("89", "ABC")], "89", "unknown"),
        # ours: a repeated AI with a different value
        ([("400", "ABC"), ("400", "AB")], "400", "appears twice with different values"),
        ([GTIN, ("10", "AB1"), ("17", "271231"), ("10", "AB2")], "10", "appears twice"),
    ],
)
def test_invalid_gs1_data_is_refused_naming_the_ai(
    elements: list[tuple[str, str]], ai: str, words: str
) -> None:
    error = refused(*elements)
    assert error.ai == ai
    assert f"AI ({ai})" in error.detail
    assert words.lower() in error.detail.lower()
    assert error.pairs == tuple(elements)  # what was read is kept for the scan's answer


# Every date AI of dictionary release 2025-01-30, by its date linter: `yymmdd` (and
# `yyyymmdd`) refuse day 00, `yymmd0` allows it ("end of the month"). zint reports day 00
# only as a warning; FAIL_ALL makes it refuse, so none needs a check of ours.
NO_DAY_00 = {
    "4326": "201200",  # REL DATE
    "7003": "2012000000",  # EXPIRY TIME
    "7006": "201200",  # FIRST FREEZE DATE
    "7007": "201200",  # HARVEST DATE
    "7011": "201200",  # TEST BY DATE
    "8008": "20120012",  # PROD TIME
    "7250": "20201200",  # DOB
    "7251": "202012001200",  # DOB TIME
}
DAY_00_ALLOWED = {
    "11": "201200",
    "12": "201200",
    "13": "201200",
    "15": "201200",
    "16": "201200",
    "17": "201200",
    "4324": "2012000000",
    "4325": "2012000000",
}


@pytest.mark.parametrize(("ai", "value"), sorted(NO_DAY_00.items()))
def test_day_00_is_refused_where_the_dictionary_says_yymmdd(ai: str, value: str) -> None:
    error = refused(("00", "106141411234567897"), (ai, value))
    assert error.ai == ai
    assert "invalid day '00'" in error.detail


@pytest.mark.parametrize(("ai", "value"), sorted(DAY_00_ALLOWED.items()))
def test_day_00_is_allowed_where_the_dictionary_says_yymmd0(ai: str, value: str) -> None:
    verify([("00", "106141411234567897"), (ai, value)])


@pytest.mark.parametrize("ai", sorted({**NO_DAY_00, **DAY_00_ALLOWED}))
def test_month_13_is_refused_in_every_date_ai(ai: str) -> None:
    value = {**NO_DAY_00, **DAY_00_ALLOWED}[ai]
    at = 4 if len(value) in (8, 12) and ai.startswith("725") else 2
    broken = value[:at] + "13" + value[at + 2 :]
    error = refused(("00", "106141411234567897"), (ai, broken))
    assert error.ai == ai
    assert "month" in error.detail


@pytest.mark.parametrize(
    ("elements", "words"),
    [
        ([("10", "")], "AI (10) has no value"),
        ([("10", "aé")], "character 'é' is not allowed"),
        ([("10", "A]B")], "character ']' is not allowed"),
        ([("10", "A\x1dB")], "character '\\x1d' is not allowed"),
        ([("010", "x")], "(010) is not a GS1 AI"),
        ([("1", "x")], "(1) is not a GS1 AI"),
        ([], "no GS1 application identifiers"),
    ],
)
def test_what_brackets_cannot_carry_is_refused_before_zint(
    elements: list[tuple[str, str]], words: str
) -> None:
    assert words in refused(*elements).detail


def test_a_long_message_is_verified_whole() -> None:
    """Aztec holds every text a scan may carry: the verification is the answer."""
    long = [GTIN] + [(f"{ai}", f"{n:02d}" + "A" * 88) for ai in range(91, 100) for n in (1, 1)]
    long += [("99", "01" + "A" * 88)] * 10
    assert len("".join(f"({a}){v}" for a, v in long)) > 1800
    verify(long)
    assert refused(*long, ("4326", "201200")).ai == "4326"


def test_known_ais_are_the_dictionarys() -> None:
    assert all(is_known_ai(ai) for ai in ("00", "01", "10", "235", "3103", "4326", "8003", "99"))
    assert not any(is_known_ai(ai) for ai in ("89", "010", "999", "0", "12345", "ab", "", "٠١"))


COUPON = "0" + "123456" + "123456" + "11" + "11" + "1" + "012"  # GCP, offer, value, 1st req


@pytest.mark.parametrize(
    "fields",
    [
        "3250101" + "4250601",  # expiry, then start
        "1" + "0" + "11" + "1" + "012" + "9" + "3250101" + "4250601",  # after a 2nd purchase
        "2" + "11" + "1" + "012" + "0123456" + "3250101" + "4250601",  # after a 3rd purchase
    ],
)
def test_a_coupon_8110_that_expires_before_it_starts_is_refused(fields: str) -> None:
    """zint 2.15's coupon linter lacks this rule of the dictionary's: a check of ours."""
    error = refused(("8110", COUPON + fields))
    assert error.ai == "8110"
    assert "expires (250101) before it starts (250601)" in error.detail


@pytest.mark.parametrize(
    "fields", ["3250601" + "4250101", "3250601", "4250601", "3250601" + "4250601"]
)
def test_a_coupon_8110_with_its_dates_in_order_passes(fields: str) -> None:
    verify([("8110", COUPON + fields)])
