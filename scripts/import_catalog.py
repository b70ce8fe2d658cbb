"""Import operator catalog overrides from a CSV into the cache table.

Usage: python scripts/import_catalog.py --table <CACHE_TABLE> catalog.csv [--dry-run]
AWS credentials/region come from the usual boto3 environment (AWS_ENDPOINT_URL for local).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "shared"))

from barcode_service.cache import DynamoLookupStore
from barcode_service.catalog import import_catalog, parse_catalog_csv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="CSV with a code/gtin/barcode column")
    parser.add_argument("--table", required=True, help="the stack's cache table name")
    parser.add_argument("--dry-run", action="store_true", help="validate only")
    args = parser.parse_args(argv)
    entries, errors = parse_catalog_csv(args.csv.read_text(encoding="utf-8"))
    for error in errors:
        print(f"line {error.line}: {error.reason}", file=sys.stderr)
    written = 0 if args.dry_run else import_catalog(DynamoLookupStore(args.table), entries)
    print(f"{len(entries)} valid rows, {len(errors)} rejected, {written} written")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
