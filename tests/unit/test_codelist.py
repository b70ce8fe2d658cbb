"""Code-list parsing: plain lists, CSV headers, encodings, odd line endings, bad files."""

from __future__ import annotations

import codecs

import pytest

from barcode_service.codelist import ListedCode, decode_text, parse_code_list
from barcode_service.errors import EmptyUpload, UnreadableUpload


def codes(data: bytes) -> list[str]:
    return [row.code for row in parse_code_list(data)]


def test_one_code_per_line_with_blank_lines_and_crlf() -> None:
    rows = parse_code_list(b"6901234567892\r\n\r\n  4006381333931  \r\n\n96385074\n")
    assert rows == [
        ListedCode(row=1, line=1, code="6901234567892"),
        ListedCode(row=2, line=3, code="4006381333931"),
        ListedCode(row=3, line=5, code="96385074"),
    ]


def test_single_column_header_is_skipped() -> None:
    assert codes(b"Barcode\n6901234567892\n") == ["6901234567892"]


def test_csv_with_bom_and_case_insensitive_header() -> None:
    data = codecs.BOM_UTF8 + "name,GTIN,price\r\n绿茶,6901234567892,3.5\r\n".encode()
    rows = parse_code_list(data)
    assert rows == [ListedCode(row=1, line=2, code="6901234567892")]


def test_quoted_fields_with_commas_and_newlines() -> None:
    data = b'name,code\n"Tea, green",6901234567892\n"two\nlines","4006381333931"\n'
    rows = parse_code_list(data)
    assert [r.code for r in rows] == ["6901234567892", "4006381333931"]
    assert [r.line for r in rows] == [2, 3]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters(delimiter: str) -> None:
    data = f"sku{delimiter}barcode\nA1{delimiter}6901234567892\n".encode()
    assert codes(data) == ["6901234567892"]


def test_barcode_column_preferred_over_code() -> None:
    assert codes(b"code,barcode\nSKU-1,6901234567892\n") == ["6901234567892"]


def test_headerless_csv_uses_first_column() -> None:
    assert codes(b"6901234567892,green tea\n4006381333931,pencil\n") == [
        "6901234567892",
        "4006381333931",
    ]


def test_csv_without_code_column_fails_clearly() -> None:
    with pytest.raises(UnreadableUpload, match="no code, barcode or gtin column"):
        parse_code_list(b"name,price\ntea,3\n")


def test_short_rows_keep_their_place_with_an_empty_code() -> None:
    rows = parse_code_list(b"name,code\nonly-a-name\ntea,6901234567892\n")
    assert [(r.row, r.code) for r in rows] == [(1, ""), (2, "6901234567892")]


def test_bad_values_are_rows_too() -> None:
    assert codes(b"code\nabc\n6901234567890\n=1+1\n") == ["abc", "6901234567890", "=1+1"]


def test_gb18030_chinese_csv() -> None:
    data = "名称,条码\n绿茶,6901234567892\n".encode("gb18030")
    assert codes(data) == ["6901234567892"]


def test_utf16_with_bom() -> None:
    data = "barcode\r\n6901234567892\r\n".encode("utf-16")
    assert codes(data) == ["6901234567892"]


def test_broken_utf16_fails() -> None:
    with pytest.raises(UnreadableUpload, match="UTF-16"):
        decode_text(codecs.BOM_UTF16_LE + b"\x00\xd8")


def test_binary_file_fails() -> None:
    with pytest.raises(UnreadableUpload, match="binary"):
        parse_code_list(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_undecodable_text_fails() -> None:
    with pytest.raises(UnreadableUpload, match="not UTF-8"):
        decode_text(b"6901234567892\n\xff\xff\n")


@pytest.mark.parametrize("data", [b"", b"   \r\n\n", codecs.BOM_UTF8])
def test_empty_files(data: bytes) -> None:
    with pytest.raises(EmptyUpload):
        parse_code_list(data)


def test_header_only_is_empty() -> None:
    with pytest.raises(EmptyUpload, match="no codes"):
        parse_code_list(b"barcode\n\n")


def test_csv_error_is_reported_with_line() -> None:
    # A field bigger than the csv module's limit is a broken file, not a list.
    with pytest.raises(UnreadableUpload, match="cannot be read"):
        parse_code_list(b'code\n"' + b"1" * 200_000 + b'"\n')
