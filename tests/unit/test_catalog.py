from pathlib import Path

import pytest

from barcode_service.cache import DynamoLookupStore
from barcode_service.catalog import parse_catalog_csv
from barcode_service.errors import InvalidParameter
from scripts import import_catalog
from tests.conftest import TABLE

CSV = (
    "\ufeffGTIN,name,brand,price,note\r\n"
    "6901234567892,Jasmine Tea,Example,12.50,fix upstream typo\r\n"
    "6901234567891,Bad Check,,,\r\n"
    "4006381333931,,,,\r\n"
    '036000291452,"Soup, tomato",Acme,,\r\n'
)


def test_parse_reports_every_bad_row_with_its_line() -> None:
    entries, errors = parse_catalog_csv(CSV)
    assert [e.gtin14 for e in entries] == ["06901234567892", "00036000291452"]
    assert entries[0].fields.known() == {
        "name": "Jasmine Tea",
        "brand": "Example",
        "price": "12.50",
    }
    assert entries[0].note == "fix upstream typo"
    assert entries[1].fields.name == "Soup, tomato"
    assert [(e.line, "check digit" in e.reason or "no product" in e.reason) for e in errors] == [
        (3, True),
        (4, True),
    ]


def test_csv_without_code_column_is_rejected() -> None:
    with pytest.raises(InvalidParameter):
        parse_catalog_csv("name,brand\nx,y\n")


def test_cli_imports_into_the_table(
    table: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(CSV, encoding="utf-8")
    assert import_catalog.main([str(path), "--table", TABLE]) == 1  # two rows rejected
    assert "2 valid rows, 2 rejected, 2 written" in capsys.readouterr().out
    snapshot = DynamoLookupStore(TABLE).snapshot("06901234567892")
    assert snapshot.catalog is not None
    assert snapshot.catalog.known() == {"name": "Jasmine Tea", "brand": "Example", "price": "12.50"}


def test_cli_dry_run_writes_nothing(table: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("code,name\n6901234567892,Tea\n", encoding="utf-8")
    assert import_catalog.main([str(path), "--table", TABLE, "--dry-run"]) == 0
    assert DynamoLookupStore(TABLE).snapshot("06901234567892").catalog is None
