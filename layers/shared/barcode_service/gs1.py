"""GS1 data: element strings and Digital Link URIs, read into AIs, checked, and converted.

One reader for everything that reads or writes GS1 application identifiers (AIs): the
generator (GS1-128, DataBar Expanded, GS1 Data Matrix / QR / Digital Link QR) and the
scan canonicaliser split GS1 data here and check it with the same rules
(gs1_syntax.verify, GS1's Barcode Syntax Dictionary as zint compiles it), so a code we
print is a code we read and the other way round.

Splitting follows GS1 General Specifications 7.8: in the bracketed form each `(AI)`
starts an element (so a value cannot hold `(`); in the scanner form an AI whose first
two digits have a predefined length (Figure 7.8.4-2) takes exactly that many
characters, any other runs to the next FNC1 (GS, ASCII 29) or the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import digital_link
from .errors import InvalidGs1
from .gs1_syntax import Gs1SyntaxError, is_known_ai, verify
from .symbology_id import GS1_IDENTIFIERS

DEFAULT_RESOLVER = "https://id.gs1.org"
"""Where a Digital Link made from an element string points (GS1's global resolver)."""

GROUP_SEPARATOR = "\x1d"  # FNC1 as transmitted by scanners between variable-length AIs

PREDEFINED_LENGTHS = {
    "00": 18,
    **dict.fromkeys(("01", "02", "03"), 14),
    "04": 16,
    **dict.fromkeys((f"{n}" for n in range(11, 20)), 6),
    "20": 2,
    **dict.fromkeys((f"{n}" for n in range(31, 37)), 6),
    "41": 13,
}
"""Value length of the AIs whose first two digits have a predefined length (GS1 General
Specifications Figure 7.8.4-2): no FNC1 follows them."""

_BLANKS = " \t\r\n"


@dataclass(frozen=True)
class Gs1Element:
    """One AI and its value, e.g. Gs1Element("17", "271231")."""

    ai: str
    value: str


@dataclass(frozen=True)
class Gs1Message:
    """GS1 data that follows GS1's rules: its elements in the order given."""

    elements: tuple[Gs1Element, ...]

    @property
    def element_string(self) -> str:
        """Human-readable form with the AIs in parentheses: (01)09501101530003(10)AB1."""
        return "".join(f"({e.ai}){e.value}" for e in self.elements)

    @property
    def ais(self) -> dict[str, str]:
        """AI -> raw value (GS1 allows an AI twice only with the same value)."""
        return {e.ai: e.value for e in self.elements}

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple((e.ai, e.value) for e in self.elements)

    @property
    def gtin(self) -> str | None:
        """The 14-digit GTIN of AI (01) or (02), if the message has one."""
        ais = self.ais
        return ais.get("01") or ais.get("02")

    def digital_link(self, resolver: str = DEFAULT_RESOLVER) -> str:
        """This message as a GS1 Digital Link URI on `resolver` (scheme and host)."""
        return digital_link.build(self.pairs, resolver)


def parse_element_string(text: str) -> Gs1Message:
    """A GS1 element string, checked by GS1's rules.

    Accepts the human-readable form `(01)09501101530003(17)271231(10)AB1` and the
    scanner form `010950110153000317271231` + GS + `10AB1` (GS = ASCII 29), optionally
    led by a GS1 symbology identifier (]C1, ]d2, ]Q3, ]e0, ]J1).
    """
    raw = text.strip(_BLANKS)
    if raw[:3] in GS1_IDENTIFIERS:
        raw = raw[3:]
    if not raw:
        raise Gs1SyntaxError("a GS1 element string must not be empty")
    pairs = _bracketed(raw) if raw.startswith("(") else _scanned(raw)
    verify(pairs)
    return Gs1Message(tuple(Gs1Element(ai, value) for ai, value in pairs))


def parse_digital_link(uri: str) -> Gs1Message:
    """The AIs of a GS1 Digital Link URI (any host), checked by its grammar and GS1's
    rules (digital_link.py)."""
    pairs = digital_link.parse(uri)
    return Gs1Message(tuple(Gs1Element(ai, value) for ai, value in pairs))


def is_digital_link(text: str) -> bool:
    """Whether `text` looks like a URI (then parse_digital_link, else parse_element_string)."""
    return text.strip().lower().startswith(("https://", "http://"))


def parse_gs1(text: str) -> Gs1Message:
    """An element string or a Digital Link URI, whichever `text` is."""
    return parse_digital_link(text) if is_digital_link(text) else parse_element_string(text)


def _bracketed(text: str) -> tuple[tuple[str, str], ...]:
    """(AI, value) pairs of `(01)...(10)...`; blanks around the brackets are ignored."""
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        close = text.find(")", position)
        if close < 0:
            raise _unsplit(f"{text[position:][:12]!r} opens an AI that is never closed")
        ai = text[position + 1 : close].strip(_BLANKS)
        if not is_known_ai(ai):
            what = "is an unknown AI" if ai.isdigit() else "is not an AI (2 to 4 digits)"
            raise _unsplit(f"({ai[:8]}) {what}")
        following = text.find("(", close + 1)
        end = following if following >= 0 else len(text)
        value = text[close + 1 : end].strip(_BLANKS)
        if not value:
            done = "".join(f"({a}){v}" for a, v in pairs)
            raise _unsplit(f"AI ({ai}) has no value; only {done!r} of it is AIs with values", ai)
        pairs.append((ai, value))
        position = end
    return tuple(pairs)


def _scanned(data: str) -> tuple[tuple[str, str], ...]:
    """(AI, value) pairs of scanner data: fixed-length AIs run together, FNC1 as GS."""
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(data):
        if data[position] == GROUP_SEPARATOR:  # a superfluous FNC1 is tolerated
            position += 1
            continue
        ai = next(
            (data[position : position + n] for n in (2, 3, 4) if _known(data, position, n)), None
        )
        if ai is None:
            raise _unsplit(f"no GS1 AI at character {position + 1} ({data[position:][:12]!r})")
        position += len(ai)
        length = PREDEFINED_LENGTHS.get(ai[:2])
        if length is not None:
            value = data[position : position + length]
            if len(value) < length or GROUP_SEPARATOR in value:
                raise _unsplit(
                    f"AI ({ai}) {value.split(GROUP_SEPARATOR)[0]}: this AI takes {length} "
                    "characters",
                    ai,
                )
            position += length
        else:
            end = data.find(GROUP_SEPARATOR, position)
            end = end if end >= 0 else len(data)
            value = data[position:end]
            position = end
            if not value:
                raise _unsplit(f"AI ({ai}) has no value", ai)
        pairs.append((ai, value))
    return tuple(pairs)


def _known(data: str, position: int, n: int) -> bool:
    candidate = data[position : position + n]
    return len(candidate) == n and is_known_ai(candidate)


def _unsplit(reason: str, ai: str | None = None) -> Gs1SyntaxError:
    """Data that cannot be split into AIs: nothing of it is reported as read."""
    return Gs1SyntaxError(f"not a valid GS1 element string: {reason}", ai)


__all__ = [
    "DEFAULT_RESOLVER",
    "GROUP_SEPARATOR",
    "Gs1Element",
    "Gs1Message",
    "Gs1SyntaxError",
    "InvalidGs1",
    "is_digital_link",
    "parse_digital_link",
    "parse_element_string",
    "parse_gs1",
]
