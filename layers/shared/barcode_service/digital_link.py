"""GS1 Digital Link URIs by their grammar: parsed into AIs, and written from AIs.

Follows the GS1 Digital Link URI syntax as GS1's own toolkit (the GS1 Barcode Syntax
Engine) reads it, with zero-suppressed GTINs allowed:
- scheme `http` or `https` in one case (`HTTPS://` yes, `HtTpS://` no); a host of
  domain characters; only URI characters anywhere;
- the path ends in `/<key>/<value>` followed by that key's qualifiers, in their order
  (`/01/<gtin>[/22/<cpv>][/10/<lot>][/21/<serial>]` or `/01/<gtin>/235/<tpx>`); any
  path before the rightmost key is the host's own;
- a GTIN in AI (01) of 14 digits, or 8, 12 or 13 padded to 14; no other length;
- query parameters whose name is all digits are AIs: each must exist, have a value,
  be allowed as a data attribute and not belong in the path; other parameters
  (`linkType`, ...) are ignored; an AI appears once in the whole URI;
- every AI value then goes through the same check as an element string's
  (gs1_syntax.verify).

The key-qualifier paths and the AIs that are no data attributes are the dictionary's
`dlpkey` attributes and `?` flags (release gs1_syntax.DICTIONARY_RELEASE); zint does
not compile those, so they are written out below.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .gs1_syntax import Gs1SyntaxError, is_known_ai, verify

Elements = tuple[tuple[str, str], ...]

KEY_QUALIFIERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "00": ((),),  # SSCC
    "01": (("22", "10", "21"), ("235",)),  # GTIN
    "253": ((),),  # GDTI
    "255": ((),),  # GCN
    "401": ((),),  # GINC
    "402": ((),),  # GSIN
    "414": (("254",), ("7040",)),  # LOC No.
    "415": (("8020",),),  # PAY TO
    "417": (("7040",),),  # PARTY
    "8003": ((),),  # GRAI
    "8004": (("7040",),),  # GIAI
    "8006": (("22", "10", "21"),),  # ITIP
    "8010": (("8011",),),  # CPID
    "8013": ((),),  # GMN
    "8017": (("8019",),),  # GSRN - PROVIDER
    "8018": (("8019",),),  # GSRN - RECIPIENT
}
"""Each primary key with its qualifier sequences (each optional, in this order)."""

NOT_DATA_ATTRIBUTES = frozenset(
    {"03", "21", "22", "235", "254", "7040", "7041", "8011", "8014", "8019", "8020", "8200"}
)
"""AIs the dictionary does not flag `?`: never a query parameter of a Digital Link."""

_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_BAD_HOST_CHARACTERS = set("_~?#@!$&'()*+,;=%")
_SCHEMES = ("https://", "HTTPS://", "http://", "HTTP://")
_LEGACY_GTIN_LENGTHS = (8, 12, 13)


def is_digital_link(text: str) -> bool:
    """Whether `text` is an http(s) URI whose path names a GS1 primary key: then it is
    read as a Digital Link (and refused if it breaks the grammar), else it is a URL."""
    value = text.strip()
    if not value.lower().startswith(("https://", "http://")):
        return False
    path = value.split("//", 1)[1].partition("/")[2]
    path = re.split(r"[?#]", path, maxsplit=1)[0]
    return any(segment in KEY_QUALIFIERS for segment in path.split("/"))


def parse(uri: str) -> Elements:
    """The AIs of a Digital Link URI, path first then query, checked; Gs1SyntaxError
    saying what breaks the grammar or which AI breaks GS1's rules."""
    value = uri.strip()
    if not _URI_CHARACTERS.fullmatch(value):
        bad = next(c for c in value if not _URI_CHARACTERS.fullmatch(c))
        raise Gs1SyntaxError(f"character {bad!r} is not allowed in a URI (percent-encode it)")
    scheme = next((s for s in _SCHEMES if value.startswith(s)), None)
    if scheme is None:
        raise Gs1SyntaxError("the scheme must be http or https, in one case")
    rest = value[len(scheme) :].split("#", 1)[0]
    host, slash, rest = rest.partition("/")
    if not host or not slash:
        raise Gs1SyntaxError("a Digital Link needs a host and a path")
    bad_host = sorted(set(host) & _BAD_HOST_CHARACTERS)
    if bad_host:
        raise Gs1SyntaxError(f"the host {host[:60]!r} has characters a host cannot: {bad_host}")
    path, _, query = rest.partition("?")
    in_path = _path_elements(f"/{path}".split("/"))
    elements = in_path + _query_elements(query, in_path)
    _check_once(elements)
    verify(elements)
    return elements


def build(elements: Elements, resolver: str) -> str:
    """A Digital Link URI on `resolver` (scheme and host) for the AIs of `elements`:
    the first primary key and its qualifiers in the path, the rest as query."""
    key = next((ai for ai, _ in elements if ai in KEY_QUALIFIERS), None)
    if key is None:
        raise Gs1SyntaxError(
            "a GS1 Digital Link needs a primary key such as (01) GTIN, (00) SSCC or (414) GLN"
        )
    values = dict(elements)
    present = [[q for q in seq if q in values] for seq in KEY_QUALIFIERS[key]]
    chosen = max(present, key=len)
    path = "".join(f"/{ai}/{quote(values[ai], safe='')}" for ai in (key, *chosen))
    rest = [(ai, v) for ai, v in elements if ai != key and ai not in chosen]
    query = "&".join(f"{ai}={quote(v, safe='')}" for ai, v in sorted(rest))
    host = re.sub(r"^https?://", "", resolver.strip(), flags=re.IGNORECASE).rstrip("/")
    uri = f"https://{host}{path}" + (f"?{query}" if query else "")
    parse(uri)  # what we write must be what we read: refused here otherwise
    return uri


def _path_elements(segments: list[str]) -> Elements:
    """The `/key/value[/qualifier/value]...` pairs at the end of the path, decoded."""
    root = None
    end = len(segments)
    while end >= 3:  # segments[0] is the empty text before the path's first "/"
        ai = segments[end - 2]
        if not is_known_ai(ai):
            break
        if ai in KEY_QUALIFIERS:
            root = end - 2
            break
        end -= 2
    if root is None:
        raise Gs1SyntaxError(
            "no GS1 primary identifier (a key such as (01) GTIN with its value) ends the path"
        )
    tail = segments[root:]  # pairs: the walk above stepped back two segments at a time
    pairs = tuple(
        (ai, _gtin14(ai, _unescaped(value, ai, query=False)))
        for ai, value in zip(tail[::2], tail[1::2], strict=True)
    )
    key, qualifiers = pairs[0][0], [ai for ai, _ in pairs[1:]]
    if not _qualifies(key, qualifiers):
        raise Gs1SyntaxError(
            f"AI ({key}) is not followed by its qualifiers in order: it takes "
            f"{_sequences(key)}; got {', '.join(f'({q})' for q in qualifiers)}",
            ai=qualifiers[0] if qualifiers else key,
        )
    return pairs


def _query_elements(query: str, in_path: Elements) -> Elements:
    key = in_path[0][0]
    qualifiers = [ai for ai, _ in in_path[1:]]
    found = []
    for parameter in query.split("&"):
        name, equals, raw = parameter.partition("=")
        if not equals or not (name.isascii() and name.isdigit()):
            continue  # not an AI: other parameters are the link's own business
        if not is_known_ai(name):
            raise Gs1SyntaxError(f"query parameter {name[:10]} is all digits but no GS1 AI")
        if name in NOT_DATA_ATTRIBUTES:
            raise Gs1SyntaxError(
                f"AI ({name}) is not a data attribute: it may not be a query parameter",
                ai=name,
            )
        if any(
            _qualifies(key, [*qualifiers[:i], name, *qualifiers[i:]])
            for i in range(len(qualifiers) + 1)
        ):
            raise Gs1SyntaxError(
                f"AI ({name}) qualifies ({key}): it belongs in the path, not the query",
                ai=name,
            )
        found.append((name, _gtin14(name, _unescaped(raw, name, query=True))))
    return tuple(found)


def _qualifies(key: str, qualifiers: list[str]) -> bool:
    """Whether `qualifiers` is, in order, a selection of one of `key`'s sequences."""
    for sequence in KEY_QUALIFIERS[key]:
        remaining = iter(sequence)
        if all(any(q == s for s in remaining) for q in qualifiers):
            return True
    return False


def _sequences(key: str) -> str:
    words = [", ".join(f"({q})" for q in seq) for seq in KEY_QUALIFIERS[key] if seq]
    return " or ".join(words) if words else "no qualifiers"


def _unescaped(raw: str, ai: str, *, query: bool) -> str:
    """Percent-decoding as GS1's toolkit does it: `%` without two hex digits stays, `+`
    is a space in the query only, a NUL or an empty value is refused."""
    if not raw:
        raise Gs1SyntaxError(f"AI ({ai}) has no value", ai=ai)
    text = raw.replace("+", " ") if query else raw
    decoded = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)
    if "\x00" in decoded:
        raise Gs1SyntaxError(f"AI ({ai}) holds a NUL character (%00)", ai=ai)
    return decoded


def _gtin14(ai: str, value: str) -> str:
    """A zero-suppressed GTIN-8, -12 or -13 in AI (01) padded to its GTIN-14."""
    if ai == "01" and value.isdigit() and len(value) in _LEGACY_GTIN_LENGTHS:
        return value.zfill(14)
    return value


def _check_once(elements: Elements) -> None:
    seen: set[str] = set()
    for ai, _ in elements:
        if ai in seen:
            raise Gs1SyntaxError(f"AI ({ai}) appears twice in the URI", ai=ai)
        seen.add(ai)
