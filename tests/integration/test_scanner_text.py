"""No scanner text crashes a lookup: whatever a scanner hands over, through the canonicaliser
and through the lookup handler (GET /products/{code}, the batch, POST /scans), the answer
is a 2xx or a 4xx problem, never a 5xx.

The text is drawn from the pieces scanner output is made of (symbology identifiers, FNC1
as GS, brackets, AIs, URIs, percent-encoding) and from arbitrary Unicode.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import responses
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from barcode_service.canonical import InvalidGs1Code, attempted_kind, canonicalise
from barcode_service.errors import InvalidGtin
from functions.lookup import app
from local.context import LambdaContext
from tests.conftest import load_event
from tests.integration.test_lookup_handler import _fresh_service  # noqa: F401 - autouse
from tests.support.upstreams import BAICHUAN_URL, baichuan_not_found

IDENTIFIERS = ["]", "]E", "]E0", "]E3", "]E4", "]E1", "]C0", "]C1", "]d1", "]d2", "]Q1", "]Q3"]
IDENTIFIERS += ["]J0", "]J1", "]e0", "]z0", "]X9", "]é0", "]]"]
PIECES = [
    "\x1d", "(", ")", "()", "[", "]", "\\(", "(01)", "(17)", "(10)", "(4326)", "(400)",
    "(8003)", "(89)", "(010)", "01", "17", "10", "21", "4326", "7007", "8003", "00", "99",
    "09506000134352", "09506000134351", "9506000134352", "271231", "201200", "123456789",
    "012345678901240", "https://", "http://", "HtTp://", "id.gs1.org", "a_b", "[::1]", "/",
    "/01/", "/10/", "/235/", "?", "&", "=", "?99=", "%", "%2F", "%00", "%zz", "%C3%A9", "+",
    "#", "//", " ", "-", "é", "\x00", "\u200b", "٣",
]  # fmt: skip
SCANNER_TEXT = st.builds(
    lambda lead, parts: lead + "".join(parts),
    st.sampled_from(["", "", *IDENTIFIERS]),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=10),
)
EXAMPLES = [
    "]",
    "]E0690123456789",
    "]J1010950600013435217271231\x1d10AB1",
    "(01)09506000134352(4326)201200",
    "(400)ABC(400)AB",
    "https://gs1.example/01/123",
    "https://a/01/09506000134352?99=",
    "https://[fe80::1%25lo]/01/09506000134352",
    "\x1d\x1d",
    "(",
]


@given(SCANNER_TEXT, st.sampled_from([None, "UPC_E", "EAN_8", "DATA_MATRIX"]))
def test_the_canonicaliser_understands_or_refuses_any_scanner_text(
    text: str, fmt: str | None
) -> None:
    refused: InvalidGtin | None = None
    try:
        found = canonicalise(text, fmt)
    except InvalidGtin as error:
        refused = error
    if isinstance(refused, InvalidGs1Code):
        assert refused.read.kind in ("gs1_element_string", "gs1_digital_link")
        assert refused.scan_status in ("invalid_gtin", "invalid_gs1")
    if refused is not None:
        assert refused.detail
        assert refused.status == 400
    elif found.gtin is not None:
        assert len(found.gtin.gtin14) == 14
        assert found.gtin.gtin14.isdigit()
    assert attempted_kind(text)  # a broken code is still named by what it was read as


@pytest.fixture
def upstream(table: str, secret: dict) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(BAICHUAN_URL, json=baichuan_not_found())
        yield mock


def invoke(event: dict[str, Any]) -> tuple[int, Any]:
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def get_product(text: str) -> tuple[int, Any]:
    event = copy.deepcopy(load_event("lookup_get.json"))
    encoded = quote(text, safe="")
    event["path"] = f"/products/{encoded}"
    event["pathParameters"] = {"code": encoded}
    return invoke(event)


def post(event_name: str, body: dict[str, Any]) -> tuple[int, Any]:
    event = copy.deepcopy(load_event(event_name))
    event["body"] = json.dumps(body)
    event["isBase64Encoded"] = False
    return invoke(event)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(SCANNER_TEXT, min_size=1, max_size=3))
@example(EXAMPLES[:3])
@example(EXAMPLES[3:6])
@example(EXAMPLES[6:])
def test_no_scanner_text_gives_a_5xx(upstream: responses.RequestsMock, texts: list[str]) -> None:
    for text in texts:
        status, body = get_product(text)
        assert status < 500, (text, body)
        assert status in (200, 400, 404), (text, body)  # 404: not found, or no such route
        status, body = post("scans_text.json", {"text": text})
        assert status < 500, (text, body)
        if status == 200:
            [entry] = body["scans"]
            assert entry["status"] in (
                "found", "not_found", "invalid_gtin", "invalid_gs1", "restricted", "no_gtin"
            )  # fmt: skip
            assert entry["text"] == text
    status, body = post("lookup_batch.json", {"codes": texts})
    assert status == 200, body
    assert [row["code"] for row in body["results"]] == texts
    assert {row["status"] for row in body["results"]} <= {"found", "not_found", "invalid_gtin"}


def test_gs1_data_breaking_the_rules_is_reported_as_read_without_a_lookup(
    upstream: responses.RequestsMock,
) -> None:
    status, body = post("scans_text.json", {"text": "(01)09506000134352(4326)201200"})
    assert status == 200
    [entry] = body["scans"]
    assert entry["kind"] == "gs1_element_string"
    assert entry["status"] == "invalid_gs1"
    assert entry["gtin"] == "09506000134352"
    assert entry["ai"] == {"01": "09506000134352", "4326": "201200"}
    assert entry["error"]["invalid_ai"] == "4326"
    assert "AI (4326)" in entry["error"]["detail"]
    status, body = get_product("(01)09506000134352(4326)201200")
    assert (status, body["code"], body["invalid_ai"]) == (400, "invalid_gtin", "4326")
    assert len(upstream.calls) == 0


@pytest.mark.parametrize("text", ["]", "]E0690123456789", "https://gs1.example/01/123"])
def test_the_issues_crashes_and_false_gtins_are_bad_codes(
    upstream: responses.RequestsMock, text: str
) -> None:
    status, body = get_product(text)
    assert (status, body["code"]) == (400, "invalid_gtin")
    status, body = post("scans_text.json", {"text": text})
    assert status == 200
    assert body["scans"][0]["status"] == "invalid_gtin"
    assert "gtin" not in body["scans"][0]
    assert len(upstream.calls) == 0
