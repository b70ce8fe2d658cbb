"""Problems in English or Simplified Chinese: negotiation and the translation tables."""

from __future__ import annotations

import pytest

from barcode_service import errors
from barcode_service.errors import InvalidGtin, ServiceError
from barcode_service.i18n import CHINESE, ENGLISH, TITLES, is_translated, negotiate, translate


def _classes() -> list[type[ServiceError]]:
    found, pending = [], [ServiceError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == errors.__name__]


@pytest.mark.parametrize("cls", _classes(), ids=lambda cls: cls.__name__)
def test_every_title_has_its_chinese(cls: type[ServiceError]) -> None:
    assert cls.title in TITLES
    assert translate(cls.title, CHINESE) != cls.title


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, ENGLISH),
        ("", ENGLISH),
        ("*", ENGLISH),
        ("zh", CHINESE),
        ("ZH-cn", CHINESE),
        ("zh-Hans-CN", CHINESE),
        ("zh-SG", CHINESE),
        ("zh-TW", ENGLISH),
        ("zh-Hant, zh-CN;q=0.5", CHINESE),
        ("en;q=0.8, zh;q=0.9", CHINESE),
        ("zh;q=0.8, en;q=0.9", ENGLISH),
        ("zh;q=0.5, en;q=0.5", CHINESE),  # a tie keeps the header's order
        ("zh;q=bad, en;q=0.1", ENGLISH),
        ("fr, de", ENGLISH),
    ],
)
def test_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language


@pytest.mark.parametrize(
    "detail",
    [
        "no such route",
        "DELETE is not allowed here; allowed: GET, OPTIONS",
        "unknown query string parameter: 'color'",
        "parameter 'width' is required: an integer from 32 to 4000",
        "check digit of 6901234567891 is wrong: expected 2, got 1 (did you mean 6901234567892?)",
        "EAN-13 check digit of 690123456789 is 2, not 3: send 6901234567892, or the first 12 "
        "digits only",
        "unknown barcode type 'nope'; GET /barcodes/types lists the supported types",
        "a valid x-api-key header is required",
        "no such upload is known to this API key or user (uploads are kept 7 days)",
        "an upload id is 32 hexadecimal characters",
    ],
)
def test_the_common_details_have_their_own_chinese(detail: str) -> None:
    assert is_translated(detail)
    assert not translate(detail, CHINESE).startswith("详情（英文）")


def test_an_unknown_detail_keeps_its_english_after_a_chinese_note() -> None:
    assert translate("something rare", CHINESE) == "详情（英文）：something rare"
    assert translate("something rare", ENGLISH) == "something rare"


def test_code_and_field_names_are_never_translated() -> None:
    problem = InvalidGtin("the code is empty", field="code").to_problem(CHINESE)
    assert problem["code"] == "invalid_gtin"
    assert problem["type"].endswith("/invalid_gtin")
    assert problem["invalid_params"] == [{"name": "code", "reason": "条码为空"}]


@pytest.mark.parametrize("limit", [16 * 1024, 4 * 1024 * 1024])
def test_the_413_detail_of_every_route_is_translated(limit: int) -> None:
    from barcode_service.request_body import too_large

    assert is_translated(too_large(limit))
    assert translate(too_large(limit), CHINESE).startswith("请求体超过")
