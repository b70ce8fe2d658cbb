"""The barcode type catalog: names, aliases, content rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from barcode_service.errors import InvalidParameter, UnsupportedType
from barcode_service.symbologies import (
    CATALOG,
    MAX_CONTENT_LENGTH,
    find_symbology,
    gs1_check_digit,
    isbn10_check_digit,
    types_document,
    upce_to_upca,
    validate_content,
)

# GuGuData's 40 documented type names, in its order (see the upstream's documentation).
UPSTREAM_TYPES: tuple[str, ...] = (
    "UNSPECIFIED", "UPCA", "UPCE", "UPC_SUPPLEMENTAL_2DIGIT", "UPC_SUPPLEMENTAL_5DIGIT",
    "EAN13", "EAN8", "Interleaved2of5", "Interleaved2of5_Mod10", "Standard2of5",
    "Standard2of5_Mod10", "Industrial2of5", "Industrial2of5_Mod10", "CODE39",
    "CODE39Extended", "CODE39_Mod43", "Codabar", "PostNet", "BOOKLAND", "ISBN", "JAN13",
    "MSI_Mod10", "MSI_2Mod10", "MSI_Mod11", "MSI_Mod11_Mod10", "Modified_Plessey", "CODE11",
    "USD8", "UCC12", "UCC13", "LOGMARS", "CODE128", "CODE128A", "CODE128B", "CODE128C",
    "ITF14", "CODE93", "TELEPEN", "FIM", "PHARMACODE",
)  # fmt: skip


def check(type_name: str, content: str) -> str:
    return validate_content(find_symbology(type_name), content)


def rejected(type_name: str, content: str) -> str:
    with pytest.raises(InvalidParameter) as caught:
        check(type_name, content)
    return caught.value.detail


# --- the catalog -------------------------------------------------------------------------


def test_catalog_is_large_and_has_the_main_2d_types() -> None:
    names = [s.name for s in CATALOG]
    assert len(names) >= 50
    assert len(set(names)) == len(names)
    for name in ("ean13", "code128", "qrcode", "datamatrix", "pdf417", "aztec"):
        assert name in names
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in names)


def test_every_example_satisfies_its_own_rule() -> None:
    for symbology in CATALOG:
        assert validate_content(symbology, symbology.example)
        assert symbology.example in symbology.rule or "e.g." in symbology.rule


def test_all_upstream_names_resolve_case_insensitively() -> None:
    assert len(UPSTREAM_TYPES) == 40
    for name in UPSTREAM_TYPES:
        if name == "UNSPECIFIED":
            continue
        for spelling in (name, name.lower(), name.upper()):
            symbology = find_symbology(spelling)
            assert symbology.upstream is not None
            assert "upstream" in symbology.backends
            assert symbology.upstream in UPSTREAM_TYPES


def test_each_row_names_its_example_once_and_its_upstream_name_is_an_alias() -> None:
    for symbology in CATALOG:
        assert symbology.rule.endswith(f"; e.g. {symbology.example}")
        assert symbology.rule.count("e.g.") == 1
        if symbology.upstream is not None:
            assert symbology.aliases[0] == symbology.upstream
            assert find_symbology(symbology.upstream) is symbology
    # The drifted copies: each rule shows the type's own example now.
    assert find_symbology("qrcode").rule.endswith("e.g. https://example.com/p?id=42")
    assert find_symbology("datamatrix").rule.endswith("e.g. Data Matrix 200")
    assert "Micro QR Code content must" in rejected("microqr", "x" * 36)


def test_aliases_map_to_one_canonical_type() -> None:
    assert find_symbology("JAN13").name == "ean13"
    assert find_symbology("ucc13").name == "ean13"
    assert find_symbology("UCC12").name == "upca"
    assert find_symbology("BOOKLAND").name == "isbn"
    assert find_symbology("USD8").name == "code11"
    assert find_symbology("Modified_Plessey").name == "msi"
    assert find_symbology("EAN-13").name == "ean13"
    assert find_symbology(" QR ").name == "qrcode"
    assert find_symbology("interleaved2of5-mod10").name == "interleaved2of5_mod10"


def test_local_only_types_have_no_upstream() -> None:
    for name in ("qrcode", "datamatrix", "pdf417", "aztec", "gs1_128"):
        assert find_symbology(name).backends == ("local",)


def test_unknown_and_unspecified_types() -> None:
    with pytest.raises(UnsupportedType, match="GET /barcodes/types"):
        find_symbology("code12345")
    with pytest.raises(UnsupportedType, match="UNSPECIFIED names no symbology"):
        find_symbology("UNSPECIFIED")
    with pytest.raises(UnsupportedType) as caught:
        find_symbology("x" * 100)
    assert len(caught.value.detail) < 150


def test_types_document_shape() -> None:
    document = types_document()
    entries = {entry["name"]: entry for entry in document["types"]}
    assert len(entries) == len(CATALOG)
    assert set(entries["ean13"]) == {"name", "aliases", "content_rule", "backends"}
    assert entries["ean13"]["backends"] == ["local", "upstream"]
    assert "JAN13" in entries["ean13"]["aliases"]
    assert entries["qrcode"]["backends"] == ["local"]


# --- check digits and GS1 numbers --------------------------------------------------------


def test_check_digit_helpers() -> None:
    assert gs1_check_digit("690123456789") == "2"
    assert gs1_check_digit("9638507") == "4"
    assert isbn10_check_digit("030640615") == "2"
    assert isbn10_check_digit("080442957") == "X"
    assert upce_to_upca("0123456") == "01234500006"
    assert upce_to_upca("0123453") == "01230000045"
    assert upce_to_upca("0123404") == "01234000000"
    assert upce_to_upca("0123410") == "01200000341"


def test_ean13_adds_or_verifies_the_check_digit() -> None:
    assert check("ean13", "690123456789") == "6901234567892"
    assert check("ean13", "6901234567892") == "6901234567892"
    assert check("ean13", "690-1234 567892") == "6901234567892"
    detail = rejected("ean13", "6901234567893")
    assert "is 2, not 3" in detail
    assert "6901234567892" in detail
    assert "12 digits" in rejected("ean13", "69012345")
    assert "12 digits" in rejected("ean13", "69012345678A")


def test_other_gs1_lengths() -> None:
    assert check("ean8", "9638507") == "96385074"
    assert check("upca", "01234567890") == "012345678905"
    assert check("itf14", "1540014128876") == "15400141288763"
    assert check("sscc18", "10614141123456789") == "106141411234567897"
    assert "is 3, not 4" in rejected("itf14", "15400141288764")


def test_upce() -> None:
    assert check("upce", "0123456") == "01234565"
    assert check("upce", "01234565") == "01234565"
    assert "number system 0 or 1" in rejected("upce", "2234567")
    assert "is 5, not 9" in rejected("upce", "01234569")
    assert "7 digits" in rejected("upce", "12345")


def test_isbn() -> None:
    assert check("isbn", "978-0-306-40615-7") == "9780306406157"
    assert check("isbn", "978030640615") == "9780306406157"
    assert check("isbn", "0-306-40615-2") == "9780306406157"
    assert check("isbn", "080442957x") == "9780804429573"
    assert "is 2, not 3" in rejected("isbn", "0306406153")
    assert "is 7, not 8" in rejected("isbn", "9780306406158")
    assert "978 or 979" in rejected("isbn", "1234567890123")


# --- character sets and lengths ----------------------------------------------------------


def test_code39_charset_names_the_bad_characters() -> None:
    assert check("code39", "ABC-123 $/+%.") == "ABC-123 $/+%."
    detail = rejected("code39", "abc*")
    assert "'*'" in detail
    assert "'a'" in detail
    assert "upper-case" in detail


def test_lengths_and_parity() -> None:
    assert "1 to 30 characters" in rejected("logmars", "A" * 31)
    assert "even number" in rejected("interleaved2of5", "123")
    assert check("interleaved2of5_mod10", "123") == "123"
    assert "odd number" in rejected("interleaved2of5_mod10", "1234")
    assert "5 or 9 or 11 digits" in rejected("postnet", "1234")
    assert check("code128c", "1234") == "1234"
    assert "even number" in rejected("code128c", "123")


def test_integers() -> None:
    assert check("pharmacode", "0042") == "42"
    assert "3 to 131070" in rejected("pharmacode", "2")
    assert "3 to 131070" in rejected("pharmacode", "12a")


def test_codabar_gs1_strings_and_usps() -> None:
    assert check("codabar", "a40156b") == "A40156B"
    assert "A, B, C or D" in rejected("codabar", "40156")
    assert check("gs1_128", "(01)09501101530003(10)ABC1") == "(01)09501101530003(10)ABC1"
    assert "AIs in parentheses" in rejected("gs1_128", "0109501101530003")
    assert check("usps_imail", "01234567094987654321") == "01234567094987654321"
    assert "second digit" in rejected("usps_imail", "05234567094987654321")
    assert "20-digit" in rejected("usps_imail", "123")


def test_text_types() -> None:
    assert check("qrcode", "héllo 条码\nline 2") == "héllo 条码\nline 2"
    assert "control characters" in rejected("qrcode", "a\x00b")
    assert "1 to 35 characters" in rejected("microqr", "x" * 36)


def test_global_content_limits() -> None:
    assert "must not be empty" in rejected("qrcode", "")
    assert f"at most {MAX_CONTENT_LENGTH}" in rejected("qrcode", "x" * (MAX_CONTENT_LENGTH + 1))


def test_code128_subset_escapes_backslashes_for_zint() -> None:
    symbology = find_symbology("code128b")
    assert symbology.zint_data("a\\b") == "\\^Ba\\\\b"
    assert find_symbology("ean13").zint_data("6901234567892") == "690123456789"
    assert find_symbology("code128").zint_data("a\\b") == "a\\b"


def test_the_readme_counts_every_symbology() -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert f"{len(CATALOG)} symbologies" in readme.read_text(encoding="utf-8")
