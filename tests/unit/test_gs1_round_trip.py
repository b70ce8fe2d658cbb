"""A code we print is a code we read, and the other way round (issue: GS1 by GS1's rules).

- Agreement: for every element string drawn, valid or broken in one of the ways GS1's
  rules name, generation's content check and the scan path accept the same ones and
  refuse the others naming the same AI.
- Round trip: content generation accepts is drawn (GS1 Data Matrix, GS1 QR, GS1-128, the
  Digital Link QR), decoded from the image by zxing-cpp, and read by the scan path with
  the same AIs.
"""

from __future__ import annotations

import datetime as dt
import string

import pytest
import zxingcpp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from barcode_service.barcode_request import parse_request
from barcode_service.canonical import InvalidGs1Code, canonicalise
from barcode_service.errors import InvalidGs1, InvalidParameter
from barcode_service.gtin import check_digit
from barcode_service.render import render_image
from barcode_service.symbologies import find_symbology, validate_content

# GS1's character set 82 without the brackets, which the bracketed form cannot carry.
CSET82 = "".join(c for c in string.ascii_letters + string.digits + "!\"%&'*+,-./:;<=>?_")
GTINS = st.text(alphabet=string.digits, min_size=13, max_size=13).map(
    lambda payload: payload + str(check_digit(payload))
)
DATES = st.dates(dt.date(2000, 1, 1), dt.date(2049, 12, 31)).map(lambda d: d.strftime("%y%m%d"))


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=CSET82, min_size=1, max_size=max_size)


VALUES: dict[str, st.SearchStrategy[str]] = {
    "10": text(20),
    "21": text(20),
    "11": DATES,
    "15": DATES.map(lambda d: d[:4] + "00"),  # day 00 is "end of month" here
    "17": DATES,
    "30": st.text(alphabet=string.digits, min_size=1, max_size=8),
    "3103": st.text(alphabet=string.digits, min_size=6, max_size=6),
    "400": text(30),
    "422": st.sampled_from(["156", "276", "826", "840"]),
    "4326": DATES,
    "7007": st.one_of(DATES, st.tuples(DATES, DATES).map("".join)),
}


@st.composite
def messages(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(01) and one to four other AIs in any order, each once."""
    others = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=4, unique=True))
    elements = [(ai, draw(VALUES[ai])) for ai in others]
    at = draw(st.integers(0, len(elements)))
    return [*elements[:at], ("01", draw(GTINS)), *elements[at:]]


BREAKS = {
    "day 00 where the date has none": lambda m: [*m, ("4326", "251200")],
    "harvest date of 9 digits": lambda m: [*m, ("7007", "250101250")],
    "GTIN check digit": lambda m: [
        (ai, v[:-1] + str((int(v[-1]) + 1) % 10) if ai == "01" else v) for ai, v in m
    ],
    "repeated AI, other value": lambda m: [*m, ("01", "09506000134352"), ("01", "00000096385074")],
    "unknown AI": lambda m: [*m, ("89", "X")],
    "space in a lot": lambda m: [*m, ("10", "A B")],
    "month 13": lambda m: [*m, ("17", "251301")],
}


def element_string(elements: list[tuple[str, str]]) -> str:
    return "".join(f"({ai}){value}" for ai, value in elements)


@settings(max_examples=150, deadline=None)
@given(messages(), st.sampled_from([None, *sorted(BREAKS)]))
def test_generation_and_scans_agree_on_every_element_string(
    message: list[tuple[str, str]], broken: str | None
) -> None:
    elements = BREAKS[broken](message) if broken else message
    content = element_string(elements)
    scan_refusal: InvalidGs1Code | None = None
    try:
        scanned = canonicalise(content)
    except InvalidGs1Code as refused:
        scan_refusal = refused
    for name in ("gs1_datamatrix", "gs1_qrcode", "gs1_128"):
        generation_refusal: InvalidParameter | None = None
        try:
            generated = validate_content(find_symbology(name), content)
        except InvalidParameter as refused:
            generation_refusal = refused
        if generation_refusal is None:
            assert scan_refusal is None, (name, content, scan_refusal.detail)
            assert canonicalise(generated).ai_values() == scanned.ai_values()
        elif isinstance(generation_refusal, InvalidGs1):
            assert scan_refusal is not None, (name, content, generation_refusal.detail)
            named = scan_refusal.ai
            assert named is None or f"AI ({named})" in generation_refusal.detail
        else:  # GS1-128's length, not GS1's rules
            assert name == "gs1_128", generation_refusal.detail
    assert (scan_refusal is None) is (broken is None)


def _read_back(type_name: str, content: str, width: int, height: int) -> list[str]:
    try:
        request = parse_request(
            {"type": type_name, "content": content, "width": width, "height": height}
        )
    except InvalidParameter as refused:
        assume("too long" not in refused.detail and "needs at least" not in refused.detail)
        raise
    image = render_image(request.symbology, request.content, request.width, request.height)
    return [str(found.text) for found in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(
    ("type_name", "width", "height"),
    [("gs1_datamatrix", 400, 400), ("gs1_qrcode", 400, 400), ("gs1_128", 1600, 200)],
)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(message=messages())
def test_what_generation_draws_the_scan_path_reads_with_the_same_ais(
    type_name: str, width: int, height: int, message: list[tuple[str, str]]
) -> None:
    [decoded] = _read_back(type_name, element_string(message), width, height)
    assert canonicalise(decoded).ai_values() == dict(message)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(message=messages())
def test_a_digital_link_qr_reads_back_with_the_same_ais(message: list[tuple[str, str]]) -> None:
    [decoded] = _read_back("gs1_digital_link", element_string(message), 500, 500)
    found = canonicalise(decoded)
    assert found.kind == "gs1_digital_link"
    assert found.ai_values() == dict(message)
