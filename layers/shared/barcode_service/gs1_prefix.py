"""The GS1 prefix of a GTIN and whether it is a restricted circulation number (RCN).

The facts are biip's: its bundled table of GS1 prefixes (`_prefix_trie.json.lzma`,
2 KB) and its rules for GS1-8 prefixes and RCN usage, read here without importing biip.
Importing biip costs ~100 ms of CPU (its GS1 company-prefix table alone is ~40 ms to
decompress and parse, and the facts below do not need it), which every plain-digit
lookup would pay at a cold start; GS1 element strings, Digital Link URIs and
variable-measure numbers still go through biip itself. tests/unit/test_gs1_prefix.py
checks every prefix of the table against biip's own answers, for each GTIN length.
"""

from __future__ import annotations

import importlib.util
import json
import lzma
from functools import cache
from pathlib import Path
from typing import Any

RCN_GEOGRAPHIC = "Restricted Circulation Numbers within a geographic region"
RCN_COMPANY = "Restricted Circulation Numbers within a company"
_GS1_8_RESTRICTED = "Used to issue Restricted Circulation Numbers within a company"
_GS1_8_RESERVED = "Reserved for future use"


@cache
def _trie() -> dict[str, Any]:
    """biip's GS1 prefix trie: digit -> subtree, ending in [prefix length, usage]."""
    spec = importlib.util.find_spec("biip")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("biip is not installed")
    path = Path(
        next(iter(spec.submodule_search_locations)), "gs1_prefixes", "_prefix_trie.json.lzma"
    )
    data: dict[str, Any] = json.loads(lzma.decompress(path.read_bytes()).decode())
    return data


def gs1_prefix(digits: str) -> tuple[str, str] | None:
    """(prefix, usage) of a GS1 company-prefixed number (GTIN-13 digits), or None."""
    node: Any = _trie()
    for digit in digits:
        if not isinstance(node, dict) or digit not in node:
            return None
        node = node[digit]
        if isinstance(node, list):
            length, usage = node
            return digits[: int(length)], str(usage)
    return None


def gs1_8_prefix(digits: str) -> tuple[str, str] | None:
    """(prefix, usage) of a GTIN-8's first three digits (GS1 General Specifications 1.4.3)."""
    prefix = digits[:3]
    number = int(prefix)
    if number <= 99 or 200 <= number <= 299:
        return prefix, _GS1_8_RESTRICTED
    if number >= 977:
        return prefix, _GS1_8_RESERVED
    found = gs1_prefix(digits)
    return None if found is None else (prefix, found[1])


def gtin_prefix(digits: str) -> tuple[tuple[str, str] | None, bool]:
    """((prefix, usage) or None, restricted) of a valid GTIN of 8, 12, 13 or 14 digits,
    as biip's `Gtin.parse` finds them (its leading-zero rules, GS1-8 prefixes, RCN usage)."""
    significant = _strip_leading_zeros(digits)
    payload = significant[:-1]
    if len(significant) == 8:
        prefix = gs1_8_prefix(payload)
    elif len(significant) == 12:
        prefix = gs1_prefix(f"0{payload}")  # a U.P.C. company prefix is a GS1 one after 0
    elif len(significant) == 13:
        prefix = gs1_prefix(payload)
    else:  # GTIN-14: the first digit is the packaging level, never an RCN
        return gs1_prefix(payload[1:]), False
    usage = prefix[1] if prefix else ""
    # GS1-8 prefixes 0xx and 2xx carry the company RCN usage (gs1_8_prefix).
    return prefix, RCN_GEOGRAPHIC in usage or RCN_COMPANY in usage


def _strip_leading_zeros(value: str) -> str:
    """biip's rule: a GTIN-12 keeps up to three leading zeros, a GTIN-8 all of them."""
    if len(value) in (12, 13, 14) and len(value.lstrip("0")) in (9, 10, 11, 12):
        return value[len(value) - 12 :]
    if len(value) >= 8 and len(value.lstrip("0")) <= 8:
        return value[len(value) - 8 :]
    return value.lstrip("0")
