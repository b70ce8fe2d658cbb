"""Text from a request is valid Unicode, or the request is refused naming where it is not.

JSON may spell a lone surrogate (`"\\ud800"`): Python keeps it in a str, nothing fails
until the answer that echoes it is written as UTF-8, and then the whole response fails
(a 502 from API Gateway instead of a problem). A multipart part or form field whose
bytes are not UTF-8 is the same mistake in another spelling. So every text a route
reads is checked where it enters: JSON bodies (`api.json_body`, the scan body), the
query string and path parameters (`api.make_resolver`), generate's parameters
(`barcode_request.parse_request`, also each row of a batch, so a bad row fails alone)
and multipart fields (`request_body`). Each is a 400 `invalid_parameter` whose
`invalid_params` names the field (`codes[1]`, `requests[0].content`, `text`).

`printable` is the one place a name that is itself not valid Unicode (a JSON member
name, a multipart field name) is made fit to be echoed: lone surrogates become U+FFFD.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InvalidParam, InvalidParameter

NOT_UNICODE = "not valid Unicode text (a lone surrogate, or bytes that are not UTF-8)"
MAX_NAMED = 10  # fields named in one problem


def is_valid(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (valid pairs are joined)."""
    if is_valid(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def invalid_text(value: Any, name: str = "") -> list[InvalidParam]:
    """Every place in a JSON value (or a str) holding text that is not valid Unicode."""
    found: list[InvalidParam] = []
    _walk(value, name, found)
    return found


def _walk(value: Any, name: str, found: list[InvalidParam]) -> None:
    if len(found) >= MAX_NAMED:
        return
    if isinstance(value, str):
        if not is_valid(value):
            found.append(InvalidParam(name or "body", NOT_UNICODE))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            shown = printable(str(key))
            inner = f"{name}.{shown}" if name else shown
            if not is_valid(str(key)):
                found.append(InvalidParam(inner, "member name " + NOT_UNICODE))
            _walk(item, inner, found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{name}[{index}]", found)


def require_valid_text(value: Any, name: str = "") -> None:
    """InvalidParameter naming every field of `value` that is not valid Unicode text."""
    found = invalid_text(value, name)
    if found:
        raise refusal(found)


def refusal(found: Iterable[InvalidParam]) -> InvalidParameter:
    """The 400 for text that is not valid Unicode, naming each field."""
    params = list(found)[:MAX_NAMED]
    names = ", ".join(dict.fromkeys(param.name for param in params))
    return InvalidParameter(f"{names}: {NOT_UNICODE}", invalid_params=params)
