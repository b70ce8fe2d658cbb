"""Text that is not valid Unicode: found and named where it enters, replaced on the way out."""

from __future__ import annotations

import json

import pytest

from barcode_service.api import dumps
from barcode_service.errors import InvalidParameter, UnknownParameter
from barcode_service.request_body import FormPart
from barcode_service.text_input import invalid_text, is_valid, printable, require_valid_text


def test_lone_surrogates_are_found_and_named_by_their_path() -> None:
    body = {"codes": ["6901234567892", "\ud800"], "a\udcff": {"deep": ["ok", "x\udfff"]}}
    names = [param.name for param in invalid_text(body)]
    assert names == ["codes[1]", "a\ufffd", "a\ufffd.deep[1]"]


def test_valid_text_passes_and_pairs_are_valid() -> None:
    require_valid_text({"text": "条码 😀", "n": 1, "list": [None, True, 2.5]})
    assert is_valid("😀")


def test_the_refusal_is_a_400_naming_each_field() -> None:
    with pytest.raises(InvalidParameter) as raised:
        require_valid_text({"text": "\ud800", "format": "\udc00"})
    problem = raised.value.to_problem()
    assert problem["status"] == 400
    assert [p["name"] for p in problem["invalid_params"]] == ["text", "format"]
    json.dumps(problem, ensure_ascii=False).encode("utf-8")


def test_printable_replaces_only_lone_surrogates() -> None:
    assert printable("a\ud800b") == "a\ufffdb"
    assert printable("\ud83d\ude00") == "😀"  # a pair split in two code points is joined
    assert printable("plain") == "plain"


def test_unknown_names_are_echoed_printable() -> None:
    problem = UnknownParameter(["\ud800x"], "body").to_problem()
    assert problem["invalid_params"][0]["name"] == "\ufffdx"
    dumps(problem).encode("utf-8")


def test_an_answer_that_still_holds_a_surrogate_is_written_with_a_replacement() -> None:
    text = dumps({"name": "tea\ud800"})
    assert json.loads(text) == {"name": "tea\ufffd"}


@pytest.mark.parametrize(("data", "charset"), [(b"\xff\xfe", "utf-8"), (b"abc", "no-such-set")])
def test_a_form_field_that_is_not_text_is_a_400_naming_it(data: bytes, charset: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        FormPart("content", None, data, charset).text()
    assert [p.name for p in raised.value.invalid_params] == ["content"]
