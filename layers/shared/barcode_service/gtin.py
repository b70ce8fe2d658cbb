"""GTIN normalisation and validation, and the GS1 prefix facts of a code.

Validation is ours (precise messages: length, characters, expected check digit);
the GS1 prefix table and restricted-number rules come from `biip`, imported
lazily because it costs ~80 ms at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .errors import InvalidGtin

GtinFormat = Literal["EAN-8", "UPC-A", "EAN-13", "GTIN-14"]
FORMATS: dict[int, GtinFormat] = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}
MAX_INPUT_LENGTH = 64
_SEPARATORS = re.compile(r"[\s\-‐-―]+")


@dataclass(frozen=True)
class GS1Prefix:
    prefix: str
    issuer: str


@dataclass(frozen=True)
class Gtin:
    """A validated code: as given (`code`), canonical 14-digit key, and its GS1 facts."""

    code: str
    gtin14: str
    format: GtinFormat
    gs1_prefix: GS1Prefix | None
    restricted: bool

    @property
    def upstream_code(self) -> str:
        """What the lookup upstream expects: EAN-13 or EAN-8 digits."""
        if self.format == "EAN-8":
            return self.code
        if self.gtin14.startswith("0"):
            return self.gtin14[1:]
        return self.gtin14

    def restriction_reason(self) -> str:
        issuer = self.gs1_prefix.issuer if self.gs1_prefix else "GS1"
        return (
            f"{self.code} is a restricted circulation number ({issuer}): it is assigned "
            "inside a store or company, not to a product, so no product database knows it"
        )


def check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit for `payload` (weights 3,1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def normalise(raw: str) -> str:
    """Digits of `raw` after removing spaces and dashes; InvalidGtin saying what is wrong."""
    if not isinstance(raw, str):
        raise InvalidGtin("a code must be a string of digits")
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidGtin(f"a code has at most 14 digits; got {len(raw)} characters")
    digits = _SEPARATORS.sub("", raw)
    if not digits:
        raise InvalidGtin("the code is empty")
    bad = sorted({c for c in digits if not ("0" <= c <= "9")})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise InvalidGtin(f"a code may contain only digits, spaces and dashes; found {shown}")
    if len(digits) not in FORMATS:
        raise InvalidGtin(
            f"a code has 8 (EAN-8), 12 (UPC-A), 13 (EAN-13) or 14 (GTIN-14) digits; "
            f"got {len(digits)}"
        )
    return digits


def parse_gtin(raw: str) -> Gtin:
    """Validate `raw` and describe it; raises InvalidGtin with the reason."""
    digits = normalise(raw)
    expected = check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise InvalidGtin(
            f"check digit of {digits} is wrong: expected {expected}, got {digits[-1]} "
            f"(did you mean {digits[:-1]}{expected}?)"
        )
    prefix, restricted = _gs1_facts(digits)
    return Gtin(
        code=digits,
        gtin14=digits.zfill(14),
        format=FORMATS[len(digits)],
        gs1_prefix=prefix,
        restricted=restricted,
    )


@lru_cache(maxsize=4096)
def _gs1_facts(digits: str) -> tuple[GS1Prefix | None, bool]:
    from biip import ParseError  # noqa: PLC0415 - 80 ms import, paid only when needed
    from biip.gtin import Gtin as BiipGtin  # noqa: PLC0415
    from biip.gtin import GtinFormat as BiipFormat  # noqa: PLC0415
    from biip.rcn import Rcn  # noqa: PLC0415

    try:
        parsed = BiipGtin.parse(digits)
    except ParseError:  # biip rejects prefixes it has no entry for
        return None, False
    prefix = None
    if parsed.prefix is not None:
        prefix = GS1Prefix(prefix=parsed.prefix.value, issuer=parsed.prefix.usage)
    restricted = isinstance(parsed, Rcn)
    if parsed.format == BiipFormat.GTIN_8 and parsed.value[:1] in ("0", "2"):
        restricted = True
    return prefix, restricted
