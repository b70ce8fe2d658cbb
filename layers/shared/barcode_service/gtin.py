"""GTIN normalisation and validation, and the GS1 prefix facts of a code.

Validation is ours (precise messages: length, characters, expected check digit);
the GS1 prefix table and restricted-number rules are biip's, read by `gs1_prefix`
without importing biip (~100 ms of CPU at a cold start); the variable-measure rules
of a region are biip's own, imported only for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from .errors import InvalidGtin
from .gs1_prefix import gtin_prefix

GtinFormat = Literal["EAN-8", "UPC-A", "EAN-13", "GTIN-14"]
FORMATS: dict[int, GtinFormat] = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}
MAX_INPUT_LENGTH = 64
_SEPARATORS = re.compile(r"[\s\-‐-―]+")


@dataclass(frozen=True)
class GS1Prefix:
    prefix: str
    issuer: str


@dataclass(frozen=True)
class VariableMeasure:
    """What a variable-measure number (GS1 prefix 20-29) holds under a region's rules."""

    region: str
    item_reference: str | None
    weight_kg: str | None = None
    price: str | None = None
    currency: str | None = None
    count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "item_reference": self.item_reference,
            "weight_kg": self.weight_kg,
            "price": self.price,
            "currency": self.currency,
            "count": self.count,
        }

    def describe(self) -> str:
        if self.weight_kg is not None:
            return f"a weight of {self.weight_kg} kg"
        if self.price is not None:
            return f"a price of {self.price}" + (f" {self.currency}" if self.currency else "")
        return f"a count of {self.count}"


@dataclass(frozen=True)
class Gtin:
    """A validated code: as given (`code`), canonical 14-digit key, and its GS1 facts."""

    code: str
    gtin14: str
    format: GtinFormat
    gs1_prefix: GS1Prefix | None
    restricted: bool
    measure: VariableMeasure | None = None

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
        reason = (
            f"{self.code} is a restricted circulation number ({issuer}): it is assigned "
            "inside a store or company, not to a product, so no product database knows it"
        )
        if self.measure is not None:
            reason += f"; it carries {self.measure.describe()} (region {self.measure.region})"
        return reason


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


def parse_gtin(raw: str, *, rcn_region: str = "") -> Gtin:
    """Validate `raw` and describe it; raises InvalidGtin with the reason.

    With `rcn_region` (GS1_RCN_REGION, e.g. "se"), a variable-measure number's weight,
    price or count is parsed by that region's rules into `measure`.
    """
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
        measure=variable_measure(digits, rcn_region) if restricted and rcn_region else None,
    )


@lru_cache(maxsize=4096)
def _gs1_facts(digits: str) -> tuple[GS1Prefix | None, bool]:
    found, restricted = gtin_prefix(digits)
    prefix = None if found is None else GS1Prefix(prefix=found[0], issuer=found[1])
    return prefix, restricted


@lru_cache(maxsize=4096)
def variable_measure(digits: str, region: str) -> VariableMeasure | None:
    """The weight/price/count in a variable-measure number, by `region`'s GS1 rules."""
    from biip import ParseConfig, ParseError  # noqa: PLC0415 - ~100 ms: RCN regions only
    from biip.gtin import Gtin as BiipGtin  # noqa: PLC0415
    from biip.rcn import Rcn  # noqa: PLC0415

    try:
        parsed = BiipGtin.parse(digits, config=ParseConfig(rcn_region=region))
    except (ParseError, ValueError):  # a measure whose own check digit is wrong
        return None
    if not isinstance(parsed, Rcn) or parsed.region is None:
        return None
    if parsed.weight is None and parsed.price is None and parsed.count is None:
        return None
    return VariableMeasure(
        region=region,
        item_reference=parsed.item_reference,
        weight_kg=None if parsed.weight is None else str(parsed.weight),
        price=None if parsed.price is None else str(parsed.price),
        currency=parsed.region.get_currency_code() if parsed.price is not None else None,
        count=parsed.count,
    )
