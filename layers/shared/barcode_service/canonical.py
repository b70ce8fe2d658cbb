"""Whatever a scanner hands over -> the one canonical code behind it.

Every lookup route, batch row, scan and upload row goes through `canonicalise`, so a
code answers the same wherever it comes in. Accepted (contract "What a code may be"):

- GTIN digits (EAN-13, EAN-8, UPC-A, GTIN-14), spaces and dashes tolerated;
- UPC-E (8 digits, number system 0/1): expanded to its UPC-A. An 8-digit code that is
  a valid UPC-E but not a valid EAN-8 is UPC-E; the scanner's `format` settles the rest;
- ISBN-10 (dashes, final X): the 978 EAN-13 of the book;
- GS1 element strings: `(01)...(17)...`, or unbracketed with FNC1 as GS (ASCII 29);
- GS1 Digital Link URIs on any host (path and query AIs), by the Digital Link grammar;
- any of these led by a symbology identifier (`]C1`, `]d2`, `]E0`, ..., symbology_id.py);
- anything else is kind `other` (a plain URL, text): it holds no GTIN.

Plain digits are checked by `gtin.py` alone. GS1 data is read by `gs1.py` and checked by
GS1's rules (`gs1_syntax.py`, the check generation runs too); when it breaks them the
refusal (InvalidGs1Code) still carries the code as read, for a scan to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from . import symbology_id
from .digital_link import is_digital_link
from .errors import InvalidGtin, InvalidParameter
from .gs1 import parse_digital_link, parse_element_string
from .gs1_syntax import Gs1SyntaxError
from .gtin import MAX_INPUT_LENGTH, Gtin, check_digit, parse_gtin, variable_measure
from .statuses import CodeStatus

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
    if value.startswith("]"):
        try:
            identifier, rest = symbology_id.split(value)
        except InvalidGtin:
            return "other"
        payload = identifier.payload if identifier is not None else "text"
        if payload == "gs1":
            return "gs1_element_string"
        if payload in ("ean13", "ean8", "ean_addon"):
            return "gtin"
        value = "" if payload == "addon_only" else rest.strip()
    compact = _SEPARATORS.sub("", value)
    long_gs1 = compact.isdigit() and len(compact) > 14 and compact[:2] in ("00", "01", "02")
    if value.startswith("(") or GS in value or long_gs1:
        return "gs1_element_string"
    if _URL.match(value):
        return "gs1_digital_link" if is_digital_link(value) else "other"
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
    return _canonical(text.strip(), hint, rcn_region, identifier_allowed=True)


def _canonical(
    value: str, hint: Hint | None, rcn_region: str, *, identifier_allowed: bool
) -> Canonical:
    if value.startswith("]") and identifier_allowed:  # one identifier, never nested
        return _with_symbology_identifier(value, hint, rcn_region)
    if GS in value:  # FNC1 as GS: unbracketed GS1 data (GS is whitespace to str.strip)
        return _element_string(value, value, rcn_region)
    if _DIGITISH.match(value) or not value:
        return _digits(value, hint, rcn_region)
    compact = _SEPARATORS.sub("", value)
    if len(value) <= MAX_INPUT_LENGTH and _ISBN10.match(compact):
        return _isbn10(value, compact, rcn_region)
    if value.startswith("("):
        return _element_string(value, value, rcn_region)
    if _URL.match(value):
        return _url(value, rcn_region)
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
            message = parse_element_string(value)
        except Gs1SyntaxError as error:
            if error.pairs:  # GS1 data, split into AIs, that breaks GS1's rules
                raise _refused(value, "gs1_element_string", error, rcn_region) from None
            # not GS1 data either: the digit checker says what is wrong below
        else:
            return _gs1(value, "gs1_element_string", message.pairs, rcn_region)
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


class InvalidGs1Code(InvalidGtin):
    """GS1 data a scanner read that breaks GS1's rules (gs1_syntax.py): still a 400
    `invalid_gtin` to a lookup, and in a scan the code as read (`read`: its kind, AIs
    and GTIN when AI (01) itself is fine) with status `invalid_gs1`, or `invalid_gtin`
    when AI (01) is what is wrong. `ai` names the AI at fault (problem member
    `invalid_ai`)."""

    def __init__(self, detail: str, read: Canonical, ai: str | None) -> None:
        super().__init__(detail, extra={"invalid_ai": ai} if ai else None)
        self.read = read
        self.ai = ai

    @property
    def scan_status(self) -> CodeStatus:
        return CodeStatus.INVALID_GTIN if self.ai == "01" else CodeStatus.INVALID_GS1


def _element_string(text: str, data: str, rcn_region: str) -> Canonical:
    """`data` (the element string in `text`) read and checked by GS1's rules."""
    try:
        message = parse_element_string(data)
    except Gs1SyntaxError as error:
        raise _refused(text, "gs1_element_string", error, rcn_region) from None
    return _gs1(text, "gs1_element_string", message.pairs, rcn_region)


def _url(value: str, rcn_region: str) -> Canonical:
    """A GS1 Digital Link URI when its path names a GS1 key, else a plain URL."""
    if not is_digital_link(value):
        understood = "a URL that is not a GS1 Digital Link (no GS1 key in its path)"
        return Canonical(text=value, kind="other", gtin=None, understood=understood)
    try:
        message = parse_digital_link(value)
    except Gs1SyntaxError as error:
        raise _refused(value, "gs1_digital_link", error, rcn_region) from None
    return _gs1(value, "gs1_digital_link", message.pairs, rcn_region)


def _gs1(value: str, kind: Kind, ai: tuple[tuple[str, str], ...], rcn_region: str) -> Canonical:
    """Checked GS1 data: its GTIN is AI (01), when it has one."""
    raw = next((v for key, v in ai if key == "01"), None)
    gtin = None if raw is None else parse_gtin(raw, rcn_region=rcn_region)
    understood = "" if gtin is not None else _no_gtin(ai)
    return Canonical(text=value, kind=kind, gtin=gtin, ai=ai, understood=understood)


def _refused(value: str, kind: Kind, error: Gs1SyntaxError, rcn_region: str) -> InvalidGs1Code:
    """The code as read (AIs when it could be split into them) and what breaks GS1's rules."""
    gtin = None
    raw = next((v for key, v in error.pairs if key == "01"), None)
    if raw is not None and error.ai != "01":
        try:
            gtin = parse_gtin(raw, rcn_region=rcn_region)
        except InvalidGtin:
            gtin = None
    understood = _no_gtin(error.pairs) if error.pairs and gtin is None else ""
    read = Canonical(text=value, kind=kind, gtin=gtin, ai=error.pairs, understood=understood)
    where = "a GS1 Digital Link URI" if kind == "gs1_digital_link" else "a GS1 element string"
    detail = error.detail.removeprefix("not a valid GS1 element string: ")
    shown = _short(value.replace(GS, "<GS>"))
    return InvalidGs1Code(f"{shown} read as {where}: {detail}", read, error.ai)


def _no_gtin(ai: tuple[tuple[str, str], ...]) -> str:
    names = ", ".join(f"({key})" for key, _ in ai)
    return f"GS1 data with AIs {names} but no GTIN (AI 01)"


def _with_symbology_identifier(value: str, hint: Hint | None, rcn_region: str) -> Canonical:
    """A text led by a symbology identifier, read by what the identifier announces."""
    identifier, payload = symbology_id.split(value)
    if identifier is None or identifier.payload == "text":
        inner = _canonical(payload, hint, rcn_region, identifier_allowed=False)
        return replace(inner, text=value)
    if identifier.payload == "gs1":
        return _element_string(value, payload, rcn_region)
    if identifier.payload == "addon_only":
        understood = f"{identifier.name} alone (its digits hold no GTIN)"
        return Canonical(text=value, kind="other", gtin=None, understood=understood)
    digits = symbology_id.main_code(identifier, payload)
    inner = _digits(digits, "ean_8" if identifier.payload == "ean8" else None, rcn_region)
    return replace(inner, text=value)


def _short(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


__all__ = [
    "Canonical",
    "InvalidGs1Code",
    "Kind",
    "attempted_kind",
    "canonical_gtin",
    "canonicalise",
    "format_hint",
    "isbn10_to_ean13",
    "variable_measure",
]
