"""Operator catalog overrides: products the upstream lacks or gets wrong.

A catalog CSV has a header row with a code column (`code`, `gtin` or `barcode`)
and any of: name, brand, company, price, spec, unit, image_url, country, note.
Each valid row becomes a `CATALOG#<gtin14>` item that wins over cache and upstream.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .cache import DynamoLookupStore
from .errors import InvalidGtin, InvalidParameter
from .gtin import parse_gtin
from .product import PRODUCT_FIELDS, ProductFields

CODE_COLUMNS = ("code", "gtin", "barcode")


@dataclass(frozen=True)
class CatalogEntry:
    gtin14: str
    fields: ProductFields
    note: str = ""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


def parse_catalog_csv(text: str) -> tuple[list[CatalogEntry], list[RowError]]:
    """Entries for the valid rows and one error per invalid row (with its line number)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {name.strip().lower(): name for name in reader.fieldnames or []}
    code_column = next((columns[c] for c in CODE_COLUMNS if c in columns), None)
    if code_column is None:
        raise InvalidParameter("the catalog CSV needs a 'code', 'gtin' or 'barcode' column")
    entries: list[CatalogEntry] = []
    errors: list[RowError] = []
    for row in reader:
        line = reader.line_num
        try:
            gtin = parse_gtin(row.get(code_column) or "")
        except InvalidGtin as error:
            errors.append(RowError(line, error.detail))
            continue
        fields = {
            name: (row.get(columns[name]) or "").strip() or None
            for name in PRODUCT_FIELDS
            if name in columns
        }
        if not any(fields.values()):
            errors.append(RowError(line, "the row has a code but no product field"))
            continue
        note = (row.get(columns["note"]) or "").strip() if "note" in columns else ""
        entries.append(CatalogEntry(gtin.gtin14, ProductFields.from_mapping(fields), note))
    return entries, errors


def import_catalog(store: DynamoLookupStore, entries: list[CatalogEntry]) -> int:
    """Write the entries; returns how many were written."""
    for entry in entries:
        store.put_catalog(entry.gtin14, entry.fields, entry.note)
    return len(entries)
