"""GS1 data: element strings and Digital Link URIs, validated, and converted both ways.

One layer for everything that reads or writes GS1 application identifiers (AIs): the
generator (GS1 Data Matrix / QR / Digital Link QR) and the scan canonicaliser use the
same parsing, so a code we print is a code we read. Built on `biip`, which knows every
AI's pattern; on top of it this module refuses what biip only reports (a GTIN, SSCC or
GLN with a wrong check digit) so that "valid" means valid everywhere.

biip costs ~80 ms to import: it is imported on first use, never at module import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidGs1, InvalidGtin
from .gtin import parse_gtin

if TYPE_CHECKING:
    from biip.gs1_element_strings import GS1ElementStrings

DEFAULT_RESOLVER = "https://id.gs1.org"
"""Where a Digital Link made from an element string points (GS1's global resolver)."""

GROUP_SEPARATOR = "\x1d"  # FNC1 as transmitted by scanners between variable-length AIs

_SYMBOLOGY_IDENTIFIER = re.compile(r"^\](?:C1|d2|Q3|e0|J1)")
_ERROR_FIELDS = ("gtin_error", "sscc_error", "gln_error")


@dataclass(frozen=True)
class Gs1Element:
    """One AI and its value, e.g. Gs1Element("17", "271231")."""

    ai: str
    value: str


@dataclass(frozen=True)
class Gs1Message:
    """A validated GS1 message: its element strings in the order given."""

    elements: tuple[Gs1Element, ...]

    @property
    def element_string(self) -> str:
        """Human-readable form with the AIs in parentheses: (01)09501101530003(10)AB1."""
        return "".join(f"({e.ai}){e.value}" for e in self.elements)

    @property
    def ais(self) -> dict[str, str]:
        """AI -> raw value (a repeated AI keeps its last value)."""
        return {e.ai: e.value for e in self.elements}

    @property
    def gtin(self) -> str | None:
        """The 14-digit GTIN of AI (01) or (02), if the message has one."""
        ais = self.ais
        return ais.get("01") or ais.get("02")

    def digital_link(self, resolver: str = DEFAULT_RESOLVER) -> str:
        """This message as a GS1 Digital Link URI on `resolver` (scheme and host)."""
        from biip import EncodeError  # noqa: PLC0415 - lazy, see module docstring
        from biip.gs1_messages import GS1Message  # noqa: PLC0415

        parsed = GS1Message.parse_hri(self.element_string)
        host = re.sub(r"^https?://", "", resolver).rstrip("/")
        try:
            return parsed.as_gs1_digital_link_uri().as_uri(domain=host)
        except EncodeError as error:
            raise InvalidGs1(
                f"a GS1 Digital Link needs exactly one primary key such as (01) GTIN: {error}"
            ) from None


def parse_element_string(text: str) -> Gs1Message:
    """A GS1 element string, validated.

    Accepts the human-readable form `(01)09501101530003(17)271231(10)AB1` and the
    scanner form `010950110153000317271231` + GS + `10AB1` (GS = ASCII 29), optionally
    led by a symbology identifier (]C1, ]d2, ]Q3, ]e0, ]J1).
    """
    from biip import ParseError  # noqa: PLC0415 - lazy, see module docstring
    from biip.gs1_messages import GS1Message  # noqa: PLC0415

    raw = _SYMBOLOGY_IDENTIFIER.sub("", text.strip())
    if not raw:
        raise InvalidGs1("a GS1 element string must not be empty")
    try:
        parse = GS1Message.parse_hri if raw.startswith("(") else GS1Message.parse
        message = parse(raw)
    except ParseError as error:
        raise InvalidGs1(f"not a valid GS1 element string: {_reason(error)}") from None
    checked = _checked(message.element_strings)
    if raw.startswith("(") and checked.element_string != "".join(raw.split()):
        # biip skips what its pattern does not match, e.g. a trailing "(17)" without a value.
        raise InvalidGs1(
            f"not a valid GS1 element string: only {checked.element_string!r} of it is "
            "AIs with values"
        )
    return checked


def parse_digital_link(uri: str) -> Gs1Message:
    """The AIs of a GS1 Digital Link URI (any host), validated."""
    from biip import ParseError  # noqa: PLC0415 - lazy, see module docstring
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI  # noqa: PLC0415

    try:
        link = GS1DigitalLinkURI.parse(uri.strip())
    except (ParseError, ValueError) as error:
        raise InvalidGs1(f"not a valid GS1 Digital Link URI: {_reason(error)}") from None
    return _checked(link.element_strings)


def is_digital_link(text: str) -> bool:
    """Whether `text` looks like a URI (then parse_digital_link, else parse_element_string)."""
    return text.strip().lower().startswith(("https://", "http://"))


def parse_gs1(text: str) -> Gs1Message:
    """An element string or a Digital Link URI, whichever `text` is."""
    return parse_digital_link(text) if is_digital_link(text) else parse_element_string(text)


def _checked(element_strings: GS1ElementStrings) -> Gs1Message:
    """biip checks patterns and dates; check digits it only reports, so refuse them here."""
    elements = []
    for element in element_strings:
        for name in _ERROR_FIELDS:
            problem = getattr(element, name, None)
            if problem:
                raise InvalidGs1(f"AI ({element.ai.ai}) {element.value}: {_worded(name, element)}")
        elements.append(Gs1Element(element.ai.ai, element.value))
    if not elements:
        raise InvalidGs1("no GS1 application identifiers found")
    return Gs1Message(tuple(elements))


def _worded(field: str, element: Any) -> str:
    """A GTIN's check-digit error worded as every other route words it (with "did you
    mean"); biip's own message for the rest (SSCC, GLN)."""
    if field == "gtin_error":
        try:
            parse_gtin(str(element.value)[-14:])
        except InvalidGtin as error:
            return error.detail
    return str(getattr(element, field))


def _reason(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:199] + "…"
