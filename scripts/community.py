"""The community catalog for operators: list, approve, reject and export contributions.

Run:
  .venv/bin/python -m scripts.community --table <CacheTableName> list [--state published]
  .venv/bin/python -m scripts.community --table <CacheTableName> approve 0012345678905
  .venv/bin/python -m scripts.community --table <CacheTableName> approve 0012345678905 \\
      --contributor <contributor hash from `list`>
  .venv/bin/python -m scripts.community --table <CacheTableName> reject 0012345678905 \\
      [--contributor <hash>]
  .venv/bin/python -m scripts.community --table <CacheTableName> export --format csv \\
      [--state pending|published|rejected|all] [--output contributions.csv]
  make community ARGS="list"          # the running `make run` stack (--local)

`list` shows pending codes by default, newest change first, each contribution with its
provenance (the contributor's caller hash, when, how many callers agree, its share).
`approve` publishes the contribution most callers agree on (or the one named); `reject`
rejects a code's contributions (or one contributor's) and withdraws a publication among
them. Both take effect for every lookup at once (the cached answer follows). Exports
hold every contribution with its provenance, as CSV or JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts.import_catalog

from barcode_service.cache import DynamoLookupStore
from barcode_service.canonical import canonical_gtin
from barcode_service.community.model import CodeRecord, CodeState
from barcode_service.community.operator import approve, export_csv, export_rows, reject
from barcode_service.community.service import Publisher
from barcode_service.community.store import DynamoCommunityStore
from barcode_service.errors import ServiceError
from barcode_service.settings import load_settings

STATES: tuple[CodeState, ...] = ("pending", "published", "rejected")


def _records(store: DynamoCommunityStore, state: str) -> list[CodeRecord]:
    states = STATES if state == "all" else (cast(CodeState, state),)
    return [record for s in states for record in store.records(s)]


def _describe(record: CodeRecord) -> list[str]:
    lines = [f"{record.gtin14}  {record.state}"]
    for row in export_rows([record]):
        brand = f" / {row['brand']}" if row["brand"] else ""
        lines.append(
            f"  {row['contributor']}  {row['status']:<9}  {row['confirmations']} agree  "
            f"{row['contributed_at']}  {row['name']}{brand}"
            + (f"  [share: {row['share']}]" if row["share"] else "")
        )
    return lines


def run(args: argparse.Namespace, client: Any, environ: Mapping[str, str]) -> str:
    """Do what `args` says on the table behind `client`; returns what to print."""
    store = DynamoCommunityStore(args.table, client)
    settings = load_settings(dict(environ))
    publisher = Publisher(
        DynamoLookupStore(args.table, client),
        found_ttl=settings.found_ttl_seconds,
        stale_grace=settings.stale_grace_seconds,
    )
    if args.command == "list":
        lines = [line for r in _records(store, args.state) for line in _describe(r)]
        return "\n".join(lines) or f"no {args.state} contributions"
    if args.command == "export":
        rows = export_rows(_records(store, args.state))
        text = export_csv(rows) if args.format == "csv" else json.dumps(rows, indent=2) + "\n"
        if args.output is None:
            return text.rstrip("\n")
        Path(args.output).write_text(text, encoding="utf-8", newline="")
        return f"{len(rows)} contributions written to {args.output}"
    gtin14 = canonical_gtin(args.code).gtin14
    decide = approve if args.command == "approve" else reject
    record = decide(store, publisher, gtin14, args.contributor)
    return "\n".join(_describe(record))


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--table", help="the stack's CacheTableName output")
    target.add_argument("--local", action="store_true", help="the running `make run` stack")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="codes and their contributions")
    listing.add_argument("--state", choices=(*STATES, "all"), default="pending")
    for name in ("approve", "reject"):
        decision = commands.add_parser(name, help=f"{name} a code's contribution(s)")
        decision.add_argument("code", help="the code (any form a lookup takes)")
        decision.add_argument("--contributor", help="one contributor's hash (from `list`)")
    export = commands.add_parser("export", help="every contribution with its provenance")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--state", choices=(*STATES, "all"), default="all")
    export.add_argument("--output", help="a file (default: standard output)")
    args = parser.parse_args(argv)
    if args.local:
        from scripts.import_catalog import LocalStackNotRunning, local_target  # noqa: PLC0415

        try:
            args.table, client = local_target(environ)
        except LocalStackNotRunning as error:
            print(error, file=sys.stderr)
            return 2
    else:
        import boto3  # noqa: PLC0415 - only when really run

        client = boto3.client("dynamodb")
    try:
        print(run(args, client, environ))
    except ServiceError as error:
        print(error.detail, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
