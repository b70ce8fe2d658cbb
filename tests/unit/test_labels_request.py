"""POST /labels bodies validated: every wrong field named by its path, all at once."""

from __future__ import annotations

from typing import Any

import pytest

from barcode_service.errors import InvalidParameter
from barcode_service.labels import MAX_LISTED_ERRORS, parse_labels

QR = {"type": "qrcode", "content": "A1"}


def names(body: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidParameter) as caught:
        parse_labels(body)
    return [p.name for p in caught.value.invalid_params]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dpi": 50}, "dpi"),
        ({"dpi": True}, "dpi"),
        ({"text_size_pt": 2}, "text_size_pt"),
        ({"text_size_pt": "8"}, "text_size_pt"),
        ({"offset_mm": {"x": 30}}, "offset_mm.x"),
        ({"offset_mm": {"x": "1"}}, "offset_mm.x"),
        ({"offset_mm": [1, 2]}, "offset_mm"),
        ({"start_at": 0}, "start_at"),
        ({"offset_mm": None}, "offset_mm"),
        ({"labels": "qr"}, "labels"),
        ({"labels": [QR] * 1001}, "labels"),
        ({"labels": ["qr"]}, "labels[0]"),
        ({"labels": [{**QR, "colour": "red"}]}, "labels[0].colour"),
        ({"labels": [{"content": "A1"}]}, "labels[0].type"),
        ({"labels": [{"type": "qrcode"}]}, "labels[0].content"),
        ({"labels": [{**QR, "show_text": "yes"}]}, "labels[0].show_text"),
        ({"labels": [{**QR, "copies": True}]}, "labels[0].copies"),
        ({"labels": [{**QR, "lines": "one"}]}, "labels[0].lines"),
        ({"labels": [{**QR, "lines": ["a"] * 5}]}, "labels[0].lines"),
        ({"labels": [{**QR, "lines": [3]}]}, "labels[0].lines[0]"),
        ({"labels": [{**QR, "lines": ["tab\there"]}]}, "labels[0].lines[0]"),
    ],
)
def test_a_wrong_field_is_named(changes: dict[str, Any], field: str) -> None:
    assert field in names({"sheet": "L7160", "labels": [QR], **changes})


def test_every_wrong_label_is_named_up_to_a_limit() -> None:
    bad = [{"type": "ean13", "content": "6901234567893"}] * 30
    error_names = names({"sheet": "L7160", "labels": bad, "dpi": 1})
    assert len(error_names) == MAX_LISTED_ERRORS
    assert error_names[:2] == ["dpi", "labels[0].content"]


def test_a_numeric_content_and_an_unknown_field() -> None:
    request = parse_labels(
        {"sheet": "L7160", "labels": [{"type": "ean13", "content": 6901234567892}]}
    )
    assert request.labels[0].content == "6901234567892"
    assert names({"sheet": "L7160", "labels": [QR], "colour": "red"}) == ["colour"]


def test_the_digest_names_the_normalised_request() -> None:
    one = parse_labels({"sheet": "L7160", "labels": [QR]})
    same = parse_labels({"sheet": "avery-l7160", "labels": [{**QR, "copies": 1}], "dpi": 300})
    other = parse_labels({"sheet": "L7160", "labels": [QR], "start_at": 2})
    assert one.digest == same.digest != other.digest
    assert one.etag == f'"{one.digest}"'
