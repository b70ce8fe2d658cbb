"""Property tests: GTIN normalisation, batch shape, generate parameter validation.

Complements tests/unit/test_gtin.py (check digits, arbitrary text) with invariants
that must hold for any input: separators never matter, normalising is idempotent,
a batch answers one row per input in order, and no parameter value makes generate
raise anything but a 400 problem.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from barcode_service.batch import MAX_BATCH
from barcode_service.cache import CachedLookup, Snapshot
from barcode_service.canonical import canonical_gtin
from barcode_service.errors import InvalidGtin, InvalidParameter, PayloadTooLarge, ServiceError
from barcode_service.gtin import check_digit, normalise, parse_gtin
from barcode_service.lookup import LookupPolicy, LookupService
from barcode_service.provider_health import ProviderBlock
from barcode_service.settings import Settings
from barcode_service.transport import RetryPolicy
from tests.support.lookups import batch_rows
from tests.support.providers import baichuan_router

SEPARATORS = [" ", "-", "\t", "\u00a0", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015"]
DIGITS = "0123456789"


def valid_code(length: int) -> st.SearchStrategy[str]:
    payload = st.text(alphabet=DIGITS, min_size=length - 1, max_size=length - 1)
    return payload.map(lambda p: p + str(check_digit(p)))


VALID_CODES = st.one_of(*(valid_code(n) for n in (8, 12, 13, 14)))


@st.composite
def with_separators(draw: st.DrawFn, code: str) -> str:
    """`code` with separator runs inserted anywhere, including both ends."""
    pieces = []
    for char in code:
        pieces.append(draw(st.text(alphabet=SEPARATORS, max_size=2)))
        pieces.append(char)
    pieces.append(draw(st.text(alphabet=SEPARATORS, max_size=2)))
    return "".join(pieces)


# --- GTIN --------------------------------------------------------------------------------


@given(st.text(max_size=70))
def test_normalise_is_idempotent(raw: str) -> None:
    try:
        once = normalise(raw)
    except InvalidGtin:
        return
    assert normalise(once) == once
    assert once.isascii()
    assert once.isdigit()


@given(VALID_CODES.flatmap(lambda code: st.tuples(st.just(code), with_separators(code))))
def test_separators_are_ignored(pair: tuple[str, str]) -> None:
    code, decorated = pair
    assume(len(decorated) <= 64)
    assert normalise(decorated) == code
    assert parse_gtin(decorated).gtin14 == parse_gtin(code).gtin14


@given(valid_code(12))
def test_upc_a_ean13_and_gtin14_spellings_share_one_key(upc: str) -> None:
    keys = {parse_gtin(upc).gtin14, parse_gtin("0" + upc).gtin14, parse_gtin("00" + upc).gtin14}
    assert keys == {"00" + upc}


@given(VALID_CODES)
def test_upstream_code_round_trips_to_the_same_key(code: str) -> None:
    gtin = parse_gtin(code)
    assert len(gtin.upstream_code) in (8, 13, 14)
    assert parse_gtin(gtin.upstream_code).gtin14 == gtin.gtin14


@given(VALID_CODES, st.integers(0, 13), st.sampled_from(DIGITS))
def test_any_single_digit_change_is_caught(code: str, position: int, digit: str) -> None:
    position %= len(code)
    assume(code[position] != digit)
    changed = code[:position] + digit + code[position + 1 :]
    with pytest.raises(InvalidGtin):
        parse_gtin(changed)


# --- batch shape ---------------------------------------------------------------------------


class MemoryStore:
    """In-memory stand-in for LookupStore (same methods, no DynamoDB)."""

    def __init__(self) -> None:
        self.items: dict[str, CachedLookup] = {}
        self.leases: set[str] = set()

    def snapshot(
        self, gtin14: str, now: float | None = None, providers: Sequence[str] = ()
    ) -> Snapshot:
        return Snapshot(cached=self.items.get(gtin14), lease_held=gtin14 in self.leases)

    def acquire_lease(
        self, gtin14: str, owner: str, seconds: float, now: float | None = None
    ) -> bool:
        if gtin14 in self.leases:
            return False
        self.leases.add(gtin14)
        return True

    def release_lease(self, gtin14: str, owner: str) -> None:
        self.leases.discard(gtin14)

    def put_result(self, gtin14: str, entry: CachedLookup, *, stale_grace: int) -> None:
        self.items[gtin14] = entry

    def put_miss(self, gtin14: str, provider: str, fresh_until: int) -> None:
        raise AssertionError("no upstream failure is scripted here")


class NoHealth:
    """A HealthStore for providers that never fail here."""

    def add_failure(self, provider: str, now: float) -> int:
        raise AssertionError("no upstream failure is scripted here")

    def open(self, block: ProviderBlock, now: float) -> bool:
        raise AssertionError("no upstream failure is scripted here")

    def close(self, provider: str) -> None:
        raise AssertionError("no upstream failure is scripted here")

    def claim_probe(self, provider: str, until: int, now: float) -> bool:
        raise AssertionError("no upstream failure is scripted here")


class CountingClient:
    """Finds codes whose last payload digit is odd; counts queries per code."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.policy = RetryPolicy()

    def ready(self) -> None:
        """No keys to fetch."""

    def query(self, code: str, *, deadline: float | None = None) -> Any:
        from barcode_service.providers.baichuan import UpstreamNotFound, UpstreamProduct

        self.queries.append(code)
        if int(code[-2]) % 2:
            return UpstreamProduct(code, f"P{code}", None, None, None, None, None, None, None, None)
        return UpstreamNotFound(country=None)


def batch_service() -> tuple[LookupService, CountingClient]:
    client = CountingClient()
    router = baichuan_router(client)  # type: ignore[arg-type]
    policy = LookupPolicy.from_settings(Settings())
    service = LookupService(policy, MemoryStore(), router, NoHealth(), sleep=lambda s: None)

    return service, client


BATCH_ITEMS = st.one_of(
    VALID_CODES,
    VALID_CODES.flatmap(with_separators),
    st.text(max_size=20),
    st.text(alphabet=DIGITS, min_size=1, max_size=15),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BATCH_ITEMS, min_size=1, max_size=MAX_BATCH))
@example(["7179986658"])  # an ISBN-10: looked up as its EAN-13 (978...)
def test_batch_answers_one_row_per_code_in_order(codes: list[Any]) -> None:
    service, client = batch_service()
    wrong = [
        i for i, raw in enumerate(codes) if isinstance(raw, bool) or not isinstance(raw, str | int)
    ]
    if wrong:
        # A null, float or object is the caller's mistake: one 400 naming each such field.
        with pytest.raises(InvalidParameter) as refused:
            batch_rows(service, codes)
        assert [p.name for p in refused.value.invalid_params] == [f"codes[{i}]" for i in wrong]
        assert client.queries == []
        return
    rows = batch_rows(service, codes)
    assert len(rows) == len(codes)
    for raw, row in zip(codes, rows, strict=True):
        text = raw if isinstance(raw, str) else str(raw)
        assert row["code"] == text
        assert row["status"] in ("found", "not_found", "invalid_gtin", "error")
        if row["status"] == "found":
            assert row["product"]["gtin"] == canonical_gtin(text).gtin14
        else:
            assert row["error"]["status"] in (400, 404, 429, 502, 503)
            json.dumps(row)  # every row is JSON-serialisable
    # Each distinct GTIN costs at most one upstream query, whatever the spelling.
    assert len(client.queries) == len(set(client.queries))


@given(st.lists(VALID_CODES, min_size=MAX_BATCH + 1, max_size=MAX_BATCH + 5))
@settings(max_examples=5, deadline=None)
def test_batch_over_the_limit_is_413(codes: list[str]) -> None:
    service, client = batch_service()
    with pytest.raises(PayloadTooLarge):
        batch_rows(service, codes)
    assert client.queries == []


@given(
    st.one_of(
        st.none(),
        st.text(max_size=5),
        st.integers(),
        st.just([]),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    )
)
def test_batch_that_is_not_a_list_is_400(codes: Any) -> None:
    service, _ = batch_service()
    with pytest.raises(InvalidParameter):
        batch_rows(service, codes)


# --- generate parameters -------------------------------------------------------------------

try:
    from barcode_service import generate, symbologies
except ImportError:  # the generate service is not there yet
    generate = symbologies = None  # type: ignore[assignment]
needs_generate = pytest.mark.skipif(generate is None, reason="barcode_service.generate missing")

TYPE_NAMES = ["ean13", "qrcode", "code128"]
if symbologies is not None:
    TYPE_NAMES += [t["name"] for t in symbologies.types_document()["types"]]
    TYPE_NAMES += [a for t in symbologies.types_document()["types"] for a in t["aliases"]]
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.text(max_size=2), max_size=1),
)
SIZES = st.one_of(
    st.integers(min_value=-10, max_value=5000),
    st.integers(min_value=-10, max_value=5000).map(str),
    st.text(alphabet="0123456789 +-.e٣", max_size=8),
    ANY_VALUE,
)
CONTENTS = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=DIGITS + " -", max_size=20),
    valid_code(13),
    valid_code(8),
    st.text(alphabet=st.characters(codec="latin-1"), max_size=40),
    ANY_VALUE,
)


@needs_generate
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    type_=st.one_of(st.sampled_from(TYPE_NAMES), ANY_VALUE),
    content=CONTENTS,
    width=SIZES,
    height=SIZES,
    image_format=st.one_of(st.sampled_from(["png", "svg", "PNG", "gif", ""]), ANY_VALUE),
    show_text=st.one_of(st.sampled_from(["true", "false", "1", "yes", "maybe"]), ANY_VALUE),
)
@example(
    type_="ean13",
    content="6901234567892",
    width="300",
    height="150",
    image_format=None,
    show_text=None,
)
@example(type_="qrcode", content="\x00", width=200, height=200, image_format="svg", show_text=True)
@example(  # a wrong check digit is the GTIN's own code
    type_="ean13", content="6901234567890", width=300, height=150, image_format=None, show_text=None
)
def test_generate_parameters_raise_only_400_problems(  # noqa: PLR0917 - hypothesis arguments
    type_: Any, content: Any, width: Any, height: Any, image_format: Any, show_text: Any
) -> None:
    params = {
        "type": type_,
        "content": content,
        "width": width,
        "height": height,
        "format": image_format,
        "show_text": show_text,
    }
    error: ServiceError | None = None
    try:
        request = generate.parse_request(params)
    except ServiceError as raised:
        error = raised
    if error is not None:
        assert error.status == 400, error
        problem = error.to_problem()
        assert problem["code"] in ("invalid_parameter", "invalid_gtin", "unsupported_type")
        json.dumps(problem)
        return
    assert generate.MIN_DIMENSION <= request.width <= generate.MAX_DIMENSION
    assert generate.MIN_DIMENSION <= request.height <= generate.MAX_DIMENSION
    assert request.format in ("png", "svg")


@needs_generate
def test_a_dimension_of_thousands_of_digits_is_a_400() -> None:
    params = {"type": "ean13", "content": "6901234567892", "width": "9" * 5000, "height": "150"}
    with pytest.raises(ServiceError) as info:
        generate.parse_request(params)
    assert info.value.status == 400
