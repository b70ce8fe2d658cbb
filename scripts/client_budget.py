"""Show or set one client's daily budget of provider lookups (operators only).

A client is an API key (its id, as in `aws apigateway get-api-keys`; never its value)
or a signed-in Cognito user (the user's `sub`). The override is an item in the cache
table (`CLIENT#<hash>`, budgets.py); functions pick it up within a minute.

Run:
  .venv/bin/python scripts/client_budget.py --table <CacheTableName> --api-key-id abc123
  .venv/bin/python scripts/client_budget.py --table <CacheTableName> --api-key-id abc123 \\
      --set 20000 --note "partner app"
  .venv/bin/python -m scripts.client_budget --local --api-key-id local-api-key --set 3
  (--user-sub <sub> instead of --api-key-id; --set 0 = unlimited; --clear = default again;
  --local: the running `make run` stack, whose first key's id is `local-api-key` and whose
  LOCAL_EXTRA_API_KEYS are `local-api-key-2`, `-3`, ...)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts.import_catalog

from barcode_service.budgets import DEFAULT_DAILY_BUDGET, Budgets, override_key
from barcode_service.callers import Caller


def run(args: argparse.Namespace, client: Any) -> str:
    caller = Caller("user", args.user_sub) if args.user_sub else Caller("api_key", args.api_key_id)
    budgets = Budgets(args.table, client, default_limit=args.default)
    if args.clear:
        client.delete_item(TableName=args.table, Key={"pk": {"S": override_key(caller.key)}})
    elif args.set is not None:
        budgets.set_override(caller.key, args.set, note=args.note or "")
    state = budgets.state(caller.key)
    limit = "unlimited" if not state.limit else str(state.limit)
    return f"{caller.kind}: limit {limit}, used today {state.used}, remaining {state.remaining}"


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--table", help="the stack's CacheTableName output")
    target.add_argument("--local", action="store_true", help="the running `make run` stack")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--api-key-id")
    who.add_argument("--user-sub")
    change = parser.add_mutually_exclusive_group()
    change.add_argument("--set", type=int, help="daily provider lookups (0 = unlimited)")
    change.add_argument("--clear", action="store_true", help="back to the default budget")
    parser.add_argument("--note", help="why (kept on the item)")
    parser.add_argument(
        "--default",
        type=int,
        default=DEFAULT_DAILY_BUDGET,
        help="the stack's CLIENT_DAILY_LOOKUP_BUDGET, to show the right limit",
    )
    args = parser.parse_args(argv)
    if args.local:
        from scripts.import_catalog import LocalStackNotRunning, local_target  # noqa: PLC0415

        try:
            args.table, client = local_target(os.environ if environ is None else environ)
        except LocalStackNotRunning as error:
            print(error, file=sys.stderr)
            return 2
    else:
        import boto3  # noqa: PLC0415 - only when really run

        client = boto3.client("dynamodb")
    print(run(args, client))
    return 0


if __name__ == "__main__":
    sys.exit(main())
