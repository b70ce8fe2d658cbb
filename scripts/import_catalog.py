"""Import operator catalog overrides from a CSV into the cache table.

Usage:
  python -m scripts.import_catalog --local catalog.csv [--dry-run]        # the `make run` stack
  python -m scripts.import_catalog --table <CACHE_TABLE> catalog.csv [--dry-run]   # AWS

With `--local` the running local stack is found in `.local/state/running.json` (written
by `make run`; `LOCAL_STATE_DIR` moves it): its moto endpoint, region and cache table,
with the stack's fake credentials, so nothing needs setting and nothing reaches AWS.
Otherwise AWS credentials and region come from the usual boto3 environment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import EndpointConnectionError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "shared"))

from barcode_service.cache import DynamoLookupStore
from barcode_service.catalog import import_catalog, parse_catalog_csv

ROOT = Path(__file__).resolve().parent.parent
RUNNING = Path(".local") / "state" / "running.json"


class LocalStackNotRunning(RuntimeError):
    """No running `make run` stack to import into."""


def local_target(environ: Mapping[str, str]) -> tuple[str, Any]:
    """(cache table, DynamoDB client) of the running local stack."""
    state = Path(environ["LOCAL_STATE_DIR"]) if environ.get("LOCAL_STATE_DIR") else None
    path = state / "running.json" if state else ROOT / RUNNING
    try:
        running = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LocalStackNotRunning(
            f"no local stack is running ({path} not found): start `make run`"
        ) from None
    client = boto3.client(
        "dynamodb",
        endpoint_url=running["aws_endpoint_url"],
        region_name=running["region"],
        aws_access_key_id="local",  # the local stack's fake credentials (local/stack.py)
        aws_secret_access_key="local",  # noqa: S106 (a placeholder, never a real credential)
    )
    return str(running["cache_table"]), client


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("csv", type=Path, help="CSV with a code/gtin/barcode column")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--table", help="the stack's cache table name (AWS)")
    target.add_argument("--local", action="store_true", help="the running `make run` stack")
    parser.add_argument("--dry-run", action="store_true", help="validate only")
    args = parser.parse_args(argv)
    entries, errors = parse_catalog_csv(args.csv.read_text(encoding="utf-8"))
    for error in errors:
        print(f"line {error.line}: {error.reason}", file=sys.stderr)
    client = None
    table = args.table
    if args.local:
        try:
            table, client = local_target(os.environ if environ is None else environ)
        except LocalStackNotRunning as error:
            print(error, file=sys.stderr)
            return 2
    try:
        written = 0 if args.dry_run else import_catalog(DynamoLookupStore(table, client), entries)
    except EndpointConnectionError:
        print("the local stack does not answer: is `make run` still running?", file=sys.stderr)
        return 2
    print(f"{len(entries)} valid rows, {len(errors)} rejected, {written} written")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
