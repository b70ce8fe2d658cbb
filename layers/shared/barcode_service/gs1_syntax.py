"""GS1's syntax rules for AI data: the one check that scans and generation both run.

The rules are GS1's own, as zint compiles them: zint 2.15.0 (zint-bindings 1.2.2)
builds its GS1 verification from GS1's Barcode Syntax Dictionary, release 2025-01-30
(`DICTIONARY_RELEASE`): every AI's length, character set and linters (check digits
and check-character pairs, dates and times, ISO 3166 country and ISO 4217 currency
codes, IBANs, coupon codes, GS1 Company Prefix positions, ...). Encoding the element
string in GS1 mode without printing runs exactly that verification, before any symbol
is built (about 15 us for a typical message, see bench/gs1.py). zint only *warns*
about a linter's finding (a wrong check digit, day 00 in a date that has none) unless
`warn_level` is FAIL_ALL, which makes it an error like a bad length.

Where zint 2.15 is silent, a narrow check of ours (each one tested by name):
- a repeated AI with different values (GS1 General Specifications 4.14.1: an AI may
  appear twice in one symbol only with the same value);
- a coupon code (8110) that expires before it starts (the dictionary's couponcode
  linter says so; zint 2.15's own coupon linter does not check it).
The dictionary's association rules (`req=`, `ex=`) are not compiled into zint 2.15;
GS1 also says they apply to the data of every carrier on an item together, which one
scan does not see. They are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from .errors import InvalidGs1
from .zint_loader import load_zint

DICTIONARY_RELEASE = "2025-01-30"
"""The GS1 Barcode Syntax Dictionary release compiled into zint 2.15.0 (the release whose
rules zint's backend/gs1_lint.h was generated from)."""

ZINT_VERSION = "2.15.0"

# zint's own error numbers for GS1 verification (backend/gs1.c): anything else a GS1-mode
# encode raises comes after the verification passed (e.g. a capacity limit of the symbol).
_GS1_ERRORS = range(250, 264)
_ZINT_ERROR = re.compile(r"^(?:Error|Warning) (\d+): ")
_LINT = re.compile(r"^AI \((\d+)\) position (\d+): (.*)$")
_DATE_WORDS = ("day", "month", "year", "hour", "minute", "second")
# An AI of three or four digits never starts with 0 (zint reads "010" as AI 10).
_AI_DIGITS = re.compile(r"[0-9]{2}|[1-9][0-9]{2,3}")


class Gs1SyntaxError(InvalidGs1):
    """GS1 data that breaks GS1's rules; `ai` names the AI at fault (None: the whole),
    `pairs` holds the data's (AI, value) pairs when it could be split into them."""

    def __init__(
        self, detail: str, ai: str | None = None, pairs: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(detail)
        self.ai = ai
        self.pairs = pairs


def verify(elements: Sequence[tuple[str, str]]) -> None:
    """Raise Gs1SyntaxError naming the AI unless `elements` ((AI, value) pairs, in order)
    follow GS1's rules."""
    if not elements:
        raise Gs1SyntaxError("no GS1 application identifiers found")
    for ai, value in elements:
        _check_shape(ai, value)  # raised without pairs: these are no (AI, value) pairs
    try:
        _check_repeats(elements)
        _encode("".join(f"[{ai}]{value}" for ai, value in elements))
        for ai, value in elements:
            if ai == "8110":
                _check_coupon_dates(value)
    except RuntimeError as error:
        raise _worded(str(error), elements, tuple(elements)) from None
    except Gs1SyntaxError as error:
        error.pairs = tuple(elements)
        raise


def is_known_ai(ai: str) -> bool:
    """Whether `ai` is an AI of the dictionary (zint answers error 260 for any other)."""
    return bool(_AI_DIGITS.fullmatch(ai)) and _in_dictionary(ai)


@cache  # bounded: only 2 to 4 digit strings get here (at most 9,990 of them)
def _in_dictionary(ai: str) -> bool:
    try:
        _encode(f"[{ai}]0")
    except RuntimeError as error:
        return not str(error).startswith("Error 260")
    return True


def _encode(data: str) -> None:
    """zint's GS1 verification of bracketed data; RuntimeError("Error NNN: ...") if not."""
    load_zint()  # without zint's own `import pydoc` (zint_loader.py)
    import zint  # noqa: PLC0415 - lazy: the native module loads only when GS1 data comes

    symbol = zint.Symbol()
    # Aztec holds any text a scan may carry (MAX_TEXT_LENGTH), and zint verifies GS1 data
    # before building the symbol, so the answer is the verification's.
    symbol.symbology = zint.Symbology.AZTEC
    symbol.input_mode = zint.InputMode.GS1
    symbol.warn_level = zint.WarningLevel.FAIL_ALL
    try:
        symbol.encode(data)
    except RuntimeError as error:
        match = _ZINT_ERROR.match(str(error))
        if match is None or int(match.group(1)) in _GS1_ERRORS:
            raise
        # Verified, then refused for the symbol's own limits: the GS1 data is fine.


def _check_shape(ai: str, value: str) -> None:
    """What zint's bracketed input cannot carry, refused here with the AI named."""
    if not _AI_DIGITS.fullmatch(ai):
        raise Gs1SyntaxError(f"({ai[:8]}) is not a GS1 AI: an AI is 2 to 4 digits", ai=None)
    if not value:
        raise Gs1SyntaxError(f"AI ({ai}) has no value", ai=ai)
    bad = next((c for c in value if not (" " <= c <= "~") or c in "[]"), None)
    if bad is not None:
        raise Gs1SyntaxError(
            f"AI ({ai}) {_shown(value)}: character {bad!r} is not allowed in GS1 data "
            "(GS1 character sets are printable ASCII)",
            ai=ai,
        )


def _check_repeats(elements: Sequence[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for ai, value in elements:
        first = seen.setdefault(ai, value)
        if first != value:
            raise Gs1SyntaxError(
                f"AI ({ai}) appears twice with different values ({_shown(first)} and "
                f"{_shown(value)}); GS1 allows a repeated AI only with the same value",
                ai=ai,
            )


def _check_coupon_dates(value: str) -> None:
    """A North American coupon code's expiry may not precede its start. zint has checked
    the structure, so this only walks its fields (GS1's couponcode linter) to the dates."""
    try:
        at = 1 + int(value[0]) + 6 + 6  # the GCP (its length digit + 6) and the offer code
        at += 1 + int(value[at])  # save value
        at += 1 + int(value[at]) + 1 + 3  # 1st purchase requirement, its code, family
        for field in "12":  # optional: 2nd and 3rd purchase (with rules code for the 2nd)
            if value[at : at + 1] == field:
                at += 2 if field == "1" else 1
                at += 1 + int(value[at]) + 1 + 3
                at += 1 + (0 if value[at] == "9" else int(value[at]) + 6)
        expiry = value[at + 1 : at + 7] if value[at : at + 1] == "3" else None
        at += 7 if expiry else 0
        start = value[at + 1 : at + 7] if value[at : at + 1] == "4" else None
    except (IndexError, ValueError):  # pragma: no cover - zint refused such data already
        return
    if expiry and start and start > expiry:
        raise Gs1SyntaxError(
            f"AI (8110) {_clip(value)}: the coupon expires ({expiry}) before it starts ({start})",
            "8110",
        )


def _worded(
    message: str, elements: Sequence[tuple[str, str]], pairs: tuple[tuple[str, str], ...]
) -> Gs1SyntaxError:
    """zint's message as ours: the AI, its value and what is wrong with it."""
    text = _ZINT_ERROR.sub("", message)
    values = dict(elements)
    if message.startswith("Error 260"):
        ai = text.removeprefix("Invalid AI (").removesuffix(")")
        detail = f"AI ({ai}) is unknown: no such GS1 application identifier"
    elif message.startswith("Error 259"):
        ai = text.removeprefix("Invalid data length for AI (").removesuffix(")")
        value = values.get(ai, "")
        detail = f"AI ({ai}) {_clip(value)}: {len(value)} characters is not a length this AI takes"
    elif lint := _LINT.match(text):
        ai, _, reason = lint.groups()
        value = values.get(ai, "")
        detail = f"AI ({ai}) {_clip(value)}: {_reason(ai, value, reason)}"
    else:  # a structural complaint: our parsers hand over none of these
        return Gs1SyntaxError(f"not valid GS1 data: {text}", None, pairs)
    return Gs1SyntaxError(detail, ai, pairs)


def _reason(ai: str, value: str, reason: str) -> str:
    checksum = re.fullmatch(r"Bad checksum '(.)', expected '(.)'", reason)
    if checksum is not None:
        got, expected = checksum.groups()
        if ai in ("01", "02", "03"):
            from .errors import InvalidGtin  # noqa: PLC0415
            from .gtin import parse_gtin  # noqa: PLC0415

            try:
                parse_gtin(value)
            except InvalidGtin as error:
                return error.detail  # every route words a GTIN's check digit alike
        return f"{_key_name(ai)}check digit is wrong: expected {expected}, got {got}"
    lowered = reason[:1].lower() + reason[1:]
    if any(f"invalid {word}" in lowered for word in _DATE_WORDS):
        return f"not a valid date or time: {lowered}"
    return lowered


def _key_name(ai: str) -> str:
    names = {"00": "SSCC", "414": "GLN", "415": "GLN", "417": "GLN", "8003": "GRAI"}
    return f"{names[ai]} " if ai in names else ""


def _clip(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _shown(value: str) -> str:
    return repr(_clip(value))
