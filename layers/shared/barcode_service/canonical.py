"""Whatever a scanner hands over -> the one canonical code behind it.

Every lookup route, batch row, scan and upload row goes through `canonicalise`, so a
code answers the same wherever it comes in. Accepted (contract "What a code may be"):

- GTIN digits (EAN-13, EAN-8, UPC-A, GTIN-14), spaces and dashes tolerated;
- UPC-E (8 digits, number system 0/1): expanded to its UPC-A. An 8-digit code that is
  a valid UPC-E but not a valid EAN-8 is UPC-E; the scanner's `format` settles the rest;
- ISBN-10 (dashes, final X): the 978 EAN-13 of the book;
- GS1 element strings: `(01)...(17)...`, or unbracketed with FNC1 as GS (ASCII 29),
  optionally led by a symbology identifier (`]C1`, `]d2`, `]Q3`, `]e0`, ...);
- GS1 Digital Link URIs on any host (path and query AIs);
- anything else is kind `other` (a plain URL, text): it holds no GTIN.

Plain digits are checked by `gtin.py` alone; `biip` (~80 ms to import) parses the GS1
forms and UPC-E, imported only when such a code arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .errors import InvalidGs1, InvalidGtin, InvalidParameter
from .gs1 import Gs1Message, parse_digital_link, parse_element_string
from .gtin import MAX_INPUT_LENGTH, Gtin, check_digit, parse_gtin, variable_measure

Kind = Literal[
    "gtin", "upc_e", "isbn10", "gs1_element_string", "gs1_digital_link", "restricted", "other"
]
Hint = Literal["upc_e", "ean_8"]
MAX_TEXT_LENGTH = 2048  # a Digital Link URI with many AIs stays far below
MAX_FORMAT_LENGTH = 64
GS = "\x1d"
_DIGITISH = re.compile(r"^[0-9\s\-‐-―]+$")
_SEPARATORS = re.compile(r"[\s\-‐-―]+")
_ISBN10 = re.compile(r"^[0-9]{9}[0-9Xx]$")
_URL = re.compile(r"^https?://", re.IGNORECASE)
# Digital Link path keys that name a primary identifier (GTIN, SSCC, GLN, ...).
_DL_KEYS = {"01", "gtin", "00", "sscc", "414", "gln", "8003", "8004", "8006", "8010", "8013"}


@dataclass(frozen=True)
class Canonical:
    """One scanned text understood: what kind it is, its GTIN and GS1 AIs if any."""

    text: str
    kind: Kind
    gtin: Gtin | None
    ai: tuple[tuple[str, str], ...] = ()
    understood: str = ""  # for `other`: what the text was taken to be

    @property
    def restricted(self) -> bool:
        return self.gtin is not None and self.gtin.restricted

    def ai_values(self) -> dict[str, str]:
        """The AIs keyed by number with their raw values, as the API shows them."""
        return dict(self.ai)

    def no_gtin_reason(self) -> str:
        """Why this text is not something a product lookup can use."""
        what = self.understood or "text that is not a barcode number"
        return f"{what}; a product lookup needs a GTIN"

    def require_gtin(self) -> Gtin:
        """The GTIN, or InvalidGtin saying what the text is instead."""
        if self.gtin is not None:
            return self.gtin
        if not self.understood:
            parse_gtin(self.text)  # raises the digit checker's precise reason
        raise InvalidGtin(self.no_gtin_reason())


def attempted_kind(text: str) -> Kind:
    """The kind `text` was read as, also when it turned out to be broken (for scan rows)."""
    value = text.strip() if isinstance(text, str) else ""
    if value.startswith("]") and len(value) > 3:
        rest = value[3:]
        if value[1:3] in ("C1", "d2", "Q3", "e0", "J1") and not _URL.match(rest):
            return "gs1_element_string"
        return attempted_kind(rest)
    compact = _SEPARATORS.sub("", value)
    long_gs1 = compact.isdigit() and len(compact) > 14 and compact[:2] in ("00", "01", "02")
    if value.startswith("(") or GS in value or long_gs1:
        return "gs1_element_string"
    if _URL.match(value):
        return "gs1_digital_link" if set(value.split("/")) & _DL_KEYS else "other"
    if _ISBN10.match(compact):
        return "isbn10"
    if compact.isdigit() or _DIGITISH.match(value):
        return "upc_e" if len(compact) == 8 and compact[0] in "01" else "gtin"
    return "other"


def format_hint(format_name: str | None) -> Hint | None:
    """The hint a scanner's symbology name gives (`UPC_E`, `upc-e`, `FORMAT_UPC_E`, ...)."""
    if format_name is None:
        return None
    if not isinstance(format_name, str) or len(format_name) > MAX_FORMAT_LENGTH:
        raise InvalidParameter(
            f"'format' must be a symbology name of at most {MAX_FORMAT_LENGTH} characters",
            extra={"invalid_params": [{"name": "format", "reason": "not a symbology name"}]},
        )
    key = re.sub(r"[^a-z0-9]", "", format_name.lower()).removeprefix("format")
    key = key.removeprefix("orggs1")  # iOS AVMetadataObject names: org.gs1.UPC-E
    if key in ("upce", "upce0", "upce1"):
        return "upc_e"
    if key in ("ean8", "gtin8"):
        return "ean_8"
    return None


def canonicalise(text: str, format_name: str | None = None, *, rcn_region: str = "") -> Canonical:
    """`text` understood; InvalidGtin (saying what was understood and what is wrong)
    when it is a code with a mistake in it. Text that holds no GTIN is kind `other`."""
    if not isinstance(text, str):
        raise InvalidGtin("a code must be a string")
    hint = format_hint(format_name)
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidGtin(f"a scanned text has at most {MAX_TEXT_LENGTH} characters")
    value = text.strip()
    if value.startswith("]"):
        return _with_symbology_identifier(value, format_name, rcn_region)
    if GS in value:  # FNC1 as GS: unbracketed GS1 data (GS is whitespace to str.strip)
        return _element_string(value, _parse_message(value), rcn_region)
    if _DIGITISH.match(value) or not value:
        return _digits(value, hint, rcn_region)
    compact = _SEPARATORS.sub("", value)
    if len(value) <= MAX_INPUT_LENGTH and _ISBN10.match(compact):
        return _isbn10(value, compact, rcn_region)
    if value.startswith("("):
        return _element_string(value, _parse_message(value), rcn_region)
    if _URL.match(value):
        return _digital_link(value, rcn_region)
    return Canonical(text=value, kind="other", gtin=None)


def canonical_gtin(text: str, format_name: str | None = None, *, rcn_region: str = "") -> Gtin:
    """The GTIN a lookup route should look up for `text`; InvalidGtin when it has none."""
    return canonicalise(text, format_name, rcn_region=rcn_region).require_gtin()


# --- digits -----------------------------------------------------------------------


def _digits(value: str, hint: Hint | None, rcn_region: str) -> Canonical:
    digits = _SEPARATORS.sub("", value)
    if len(digits) == 8:
        return _eight_digits(value, digits, hint, rcn_region)
    if len(digits) == 10:
        return _isbn10(value, digits, rcn_region)
    if len(digits) > 14 and len(value) <= MAX_INPUT_LENGTH and value == digits:
        # Unbracketed GS1 data whose fields all have fixed lengths: (01)...(17)...
        try:
            message = _parse_message(value)
        except InvalidGtin:
            pass  # not GS1 data either: the digit checker says what is wrong below
        else:
            return _element_string(value, message, rcn_region)
    return _gtin_kind(value, parse_gtin(value, rcn_region=rcn_region))


def _gtin_kind(value: str, gtin: Gtin) -> Canonical:
    return Canonical(text=value, kind="restricted" if gtin.restricted else "gtin", gtin=gtin)


def _eight_digits(text: str, value: str, hint: Hint | None, rcn_region: str) -> Canonical:
    """EAN-8 or UPC-E: a valid EAN-8 is EAN-8 unless the scanner said UPC-E."""
    ean8_ok = check_digit(value[:7]) == int(value[7])
    upce_expected = _upce_check_digit(value)
    upce_ok = upce_expected is not None and upce_expected == int(value[7])
    if hint == "upc_e" or (upce_ok and not ean8_ok and hint != "ean_8"):
        if upce_expected is None:
            raise InvalidGtin(
                f"{value} is not a UPC-E: a UPC-E starts with number system 0 or 1, not {value[0]}"
            )
        if not upce_ok:
            raise InvalidGtin(
                f"{value} read as UPC-E: check digit is wrong: expected {upce_expected}, "
                f"got {value[7]}"
            )
        upc_a = _expand_upce(value)
        return Canonical(text=text, kind="upc_e", gtin=parse_gtin(upc_a, rcn_region=rcn_region))
    if not ean8_ok and upce_expected is not None and hint is None:
        raise InvalidGtin(
            f"{value} is neither a valid EAN-8 (check digit expected "
            f"{check_digit(value[:7])}, got {value[7]}) nor a valid UPC-E (check digit "
            f"expected {upce_expected})"
        )
    return _gtin_kind(text, parse_gtin(text, rcn_region=rcn_region))


def _expand_upce(value: str) -> str:
    """The UPC-A of an 8-digit UPC-E (GS1 General Specifications 5.2.2.4.2)."""
    system, body, check = value[0], value[1:7], value[7]
    last = body[5]
    if last in "012":
        middle = f"{body[:2]}{last}0000{body[2:5]}"
    elif last == "3":
        middle = f"{body[:3]}00000{body[3:5]}"
    elif last == "4":
        middle = f"{body[:4]}00000{body[4]}"
    else:
        middle = f"{body[:5]}0000{last}"
    return f"{system}{middle}{check}"


def _upce_check_digit(value: str) -> int | None:
    """The check digit `value` needs as a UPC-E; None when it cannot be one."""
    if value[0] not in "01":
        return None
    return check_digit(_expand_upce(value)[:11])


# --- ISBN-10 ------------------------------------------------------------------------


def isbn10_check(payload: str) -> str:
    """The ISBN-10 check character (0-9 or X) for 9 digits."""
    total = sum(int(d) * w for d, w in zip(payload, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn10_to_ean13(isbn10: str) -> str:
    payload = f"978{isbn10[:9]}"
    return f"{payload}{check_digit(payload)}"


def _isbn10(value: str, compact: str, rcn_region: str) -> Canonical:
    expected = isbn10_check(compact[:9])
    if compact[9].upper() != expected:
        raise InvalidGtin(
            f"{value} read as ISBN-10: check digit is wrong: expected {expected}, got {compact[9]}"
        )
    ean13 = isbn10_to_ean13(compact)
    return Canonical(text=value, kind="isbn10", gtin=parse_gtin(ean13, rcn_region=rcn_region))


# --- GS1 element strings and Digital Link -------------------------------------------


def _parse_message(value: str) -> Gs1Message:
    """GS1 data in either form, validated by the same parser the generator uses."""
    try:
        return parse_element_string(value)
    except InvalidGs1 as error:
        shown = _short(value.replace(GS, "<GS>"))
        raise InvalidGtin(f"{shown} read as a GS1 element string: {error.detail}") from None


def _element_string(value: str, found: Gs1Message, rcn_region: str) -> Canonical:
    return _gs1(value, "gs1_element_string", found, rcn_region)


def _gs1(value: str, kind: Kind, found: Gs1Message, rcn_region: str) -> Canonical:
    ai = tuple((element.ai, element.value) for element in found.elements)
    raw = next((v for key, v in ai if key == "01"), None)
    gtin = None
    if raw is not None:
        try:
            gtin = parse_gtin(raw, rcn_region=rcn_region)
        except InvalidGtin as error:
            raise InvalidGtin(f"the GTIN in AI (01) of {_short(value)}: {error.detail}") from None
    understood = "" if gtin is not None else _no_gtin(ai)
    return Canonical(text=value, kind=kind, gtin=gtin, ai=ai, understood=understood)


def _no_gtin(ai: tuple[tuple[str, str], ...]) -> str:
    names = ", ".join(f"({key})" for key, _ in ai)
    return f"GS1 data with AIs {names} but no GTIN (AI 01)"


def _with_symbology_identifier(value: str, format_name: str | None, rcn_region: str) -> Canonical:
    from biip import ParseError  # noqa: PLC0415 - biip costs ~80 ms: GS1 data only
    from biip.symbology import GS1Symbology, SymbologyIdentifier  # noqa: PLC0415

    try:
        identifier = SymbologyIdentifier.extract(value)
    except ParseError as error:
        raise InvalidGtin(f"{_short(value)}: {error}") from None
    rest = value[len(identifier) :]
    if identifier.gs1_symbology in GS1Symbology.with_gs1_messages() and not _URL.match(rest):
        return _element_string(value, _parse_message(rest), rcn_region)
    inner = canonicalise(rest, format_name, rcn_region=rcn_region)
    return Canonical(
        text=value, kind=inner.kind, gtin=inner.gtin, ai=inner.ai, understood=inner.understood
    )


def _digital_link(value: str, rcn_region: str) -> Canonical:
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        link = parse_digital_link(value)
    except InvalidGs1 as error:
        segments = set(urlsplit(value).path.split("/"))
        if segments & _DL_KEYS:
            raise InvalidGtin(
                f"{_short(value)} read as a GS1 Digital Link URI: {error.detail}"
            ) from None
        understood = "a URL that is not a GS1 Digital Link (no GS1 key in its path)"
        return Canonical(text=value, kind="other", gtin=None, understood=understood)
    return _gs1(value, "gs1_digital_link", link, rcn_region)


def _short(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


__all__ = [
    "Canonical",
    "Kind",
    "attempted_kind",
    "canonical_gtin",
    "canonicalise",
    "format_hint",
    "isbn10_to_ean13",
    "variable_measure",
]
