"""GS1 prefix facts read from biip's table without biip: the same answers as biip's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from biip.gtin import Gtin as BiipGtin
from biip.rcn import Rcn

from barcode_service.gs1_prefix import gtin_prefix
from barcode_service.gtin import check_digit

ROOT = Path(__file__).resolve().parents[2]


def _codes() -> list[str]:
    """Every 4-digit start, at each GTIN length, with the leading zeros biip treats apart."""
    codes = set()
    for stem in range(10_000):
        for length in (8, 12, 13, 14):
            body = f"{stem:04d}{'5' * 20}"[: length - 1]
            for zeros in (0, 1, 2, 3, 4, 6):
                payload = "0" * zeros + body[zeros:]
                codes.add(payload + str(check_digit(payload)))
    return sorted(codes)


def test_every_prefix_and_rcn_rule_agrees_with_biip() -> None:
    disagree = []
    for code in _codes():
        parsed = BiipGtin.parse(code)
        expected = (
            None if parsed.prefix is None else (parsed.prefix.value, parsed.prefix.usage),
            isinstance(parsed, Rcn),
        )
        if gtin_prefix(code) != expected:
            disagree.append((code, expected, gtin_prefix(code)))
    assert disagree == []


def test_known_answers() -> None:
    assert gtin_prefix("6901234567892") == (("690", "GS1 China"), False)
    assert gtin_prefix("9780306406157")[0] == ("978", "Bookland (ISBN)")
    assert gtin_prefix("2012345678903")[1] is True  # in-store number (prefix 20-29)
    assert gtin_prefix("00012345678905")[1] is False  # GTIN-14: never an RCN


def test_a_plain_lookup_code_never_imports_biip() -> None:
    """biip costs ~100 ms at a cold start: plain digits must not load it."""
    code = (
        "import sys\n"
        "from barcode_service.canonical import canonical_gtin\n"
        "gtin = canonical_gtin('690 1234 56789 2')\n"
        "assert gtin.gs1_prefix is not None and not gtin.restricted\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'biip'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers" / "shared"), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.stdout.strip() == "[]"
