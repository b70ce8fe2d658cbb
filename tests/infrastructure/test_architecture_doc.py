"""docs/architecture.md says what the code does: its item table names every key prefix
the layer writes to the cache table, and nothing the layer no longer writes."""

from __future__ import annotations

import re

from tests.conftest import ROOT

LAYER = ROOT / "layers" / "shared" / "barcode_service"
DOC = ROOT / "docs" / "architecture.md"
KEY_PREFIX = re.compile(r"""f?["']([A-Z][A-Z_]+)#""")


def prefixes_in_code() -> set[str]:
    found: set[str] = set()
    for path in LAYER.rglob("*.py"):
        found.update(KEY_PREFIX.findall(path.read_text(encoding="utf-8")))
    return found


def prefixes_in_doc() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## The one DynamoDB table") :]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {m for row in rows for m in re.findall(r"`([A-Z][A-Z_]+)#", row.split("|")[1])}


def test_the_item_table_names_every_key_prefix_the_code_writes() -> None:
    code = prefixes_in_code()
    assert {"PRODUCT", "HEALTH", "MISS", "RATE", "UPLOAD"} <= code  # the scan itself works
    assert code == prefixes_in_doc()
