"""Symbology identifiers (ISO/IEC 15424): the `]Cm` a scanner may put before the data.

A scanner configured to transmit them starts its text with `]`, a code character and
a modifier character. The ones listed here are read by what their payload must be
(GS1 General Specifications 5.1.2 and 5.4, ISO/IEC 15420/15424); a payload that does
not fit its identifier is refused. Any other well-formed identifier is dropped and
what follows is read like text without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .errors import InvalidGtin

Payload = Literal["gs1", "ean13", "ean8", "ean_addon", "addon_only", "text"]


@dataclass(frozen=True)
class Identifier:
    code: str  # "]C1"
    name: str  # the symbology it announces
    payload: Payload


_LISTED = (
    Identifier("]C1", "GS1-128", "gs1"),
    Identifier("]e0", "GS1 DataBar", "gs1"),
    Identifier("]d2", "GS1 DataMatrix", "gs1"),
    Identifier("]Q3", "GS1 QR Code", "gs1"),
    Identifier("]J1", "GS1 DotCode", "gs1"),
    Identifier("]E0", "EAN-13/UPC-A/UPC-E", "ean13"),
    Identifier("]E4", "EAN-8", "ean8"),
    Identifier("]E3", "EAN/UPC with its add-on", "ean_addon"),
    Identifier("]E1", "a two-digit EAN/UPC add-on", "addon_only"),
    Identifier("]E2", "a five-digit EAN/UPC add-on", "addon_only"),
    Identifier("]C0", "Code 128", "text"),
    Identifier("]d1", "Data Matrix", "text"),
    Identifier("]Q1", "QR Code", "text"),
    Identifier("]J0", "DotCode", "text"),
)
IDENTIFIERS = {identifier.code: identifier for identifier in _LISTED}
"""Every identifier read by its payload, by its three characters."""

GS1_IDENTIFIERS = tuple(i.code for i in _LISTED if i.payload == "gs1")

# ISO/IEC 15424: a code character (a letter) and a modifier (a digit or a letter).
_WELL_FORMED = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_ADDON_LENGTHS = {10: 8, 13: 8, 15: 13, 18: 13}  # main code + 2 or 5 add-on digits


def split(text: str) -> tuple[Identifier | None, str]:
    """(the identifier `text` starts with (None: one not listed), the payload after it);
    InvalidGtin when `text` starts with `]` but no well-formed identifier."""
    head = text[:3]
    if not _WELL_FORMED.fullmatch(head):
        raise InvalidGtin(
            f"{text[:12]!r} starts with ']' but not with a symbology identifier (']', a "
            "letter naming the symbology and a modifier character, e.g. ']E0' or ']d2')"
        )
    payload = text[3:]
    if not payload.strip():
        raise InvalidGtin(
            f"{head} is a symbology identifier with nothing after it: the code is empty"
        )
    return IDENTIFIERS.get(head), payload


def main_code(identifier: Identifier, payload: str) -> str:
    """The EAN/UPC digits an `ean13`/`ean8`/`ean_addon` payload carries; InvalidGtin
    when the payload does not fit its identifier."""
    digits = payload.isascii() and payload.isdigit()
    if identifier.payload == "ean13" and digits and len(payload) == 13:
        return payload
    if identifier.payload == "ean8" and digits and len(payload) == 8:
        return payload
    if identifier.payload == "ean_addon" and digits and len(payload) in _ADDON_LENGTHS:
        return payload[: _ADDON_LENGTHS[len(payload)]]
    wants = {
        "ean13": "13 digits (a UPC-A or UPC-E as its EAN-13)",
        "ean8": "8 digits",
        "ean_addon": "an EAN-8 or EAN-13 and a 2 or 5 digit add-on (10, 13, 15 or 18 digits)",
    }[identifier.payload]
    raise InvalidGtin(
        f"{identifier.code} announces {identifier.name}, which is {wants}; "
        f"got {payload[:40]!r} ({len(payload)} characters)"
    )
