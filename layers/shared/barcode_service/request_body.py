"""Request bodies as API Gateway hands them over: text or base64, size-limited, multipart.

Shared by every route that reads a body (generate's parameters, a scan's photo), so a
base64 error, an oversized body or a broken multipart body is the same problem
everywhere. `email.parser` (the stdlib's MIME parser) is imported only for a multipart
body, never at a function's cold start.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from .errors import InvalidParam, InvalidParameter, PayloadTooLarge, refuse_unknown
from .text_input import NOT_UNICODE, printable


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    data: bytes
    charset: str

    def text(self) -> str:
        """The part as text in its charset; a 400 naming the field when it is not."""
        try:
            return self.data.decode(self.charset)
        except (UnicodeDecodeError, LookupError):  # bad bytes, or a charset Python lacks
            name = printable(self.name)
            raise InvalidParameter(
                f"form field {name[:40]!r} is not {self.charset[:20]} text",
                invalid_params=[InvalidParam(name[:100], NOT_UNICODE)],
            ) from None


def media_type(content_type: str | None) -> str:
    """`image/png` of `image/PNG; charset=x`: lower case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def refuse_oversized(body: str | None, limit: int) -> None:
    """A 413 for a body whose text (as sent, or base64) is too long to hold at most `limit`
    bytes: checked before the body is parsed."""
    if len(body or "") > limit * 4 // 3 + 4:
        raise PayloadTooLarge(too_large(limit))


def body_bytes(body: str | None, base64_encoded: bool, limit: int) -> bytes:
    """The raw request body (API Gateway base64-encodes binary media types); 413 over `limit`."""
    text = body or ""
    if base64_encoded:
        if len(text) > (limit + 2) * 4 // 3 + 4:
            raise PayloadTooLarge(too_large(limit))
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameter("request body is not valid base64") from None
    else:
        try:
            raw = text.encode("utf-8", errors="surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate that no bytes stand for
            raise InvalidParameter(f"request body is {NOT_UNICODE}") from None
    if len(raw) > limit:
        raise PayloadTooLarge(too_large(limit))
    return raw


def multipart_parts(content_type: str, raw: bytes) -> list[FormPart]:
    """The named parts of a multipart/form-data body; 400 without a valid boundary."""
    from email.parser import BytesParser  # noqa: PLC0415 - multipart bodies only
    from email.policy import HTTP  # noqa: PLC0415

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", errors="replace") + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        raise InvalidParameter("multipart body without a valid boundary")
    parts: list[FormPart] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        charset = part.get_content_charset() or "utf-8"
        parts.append(FormPart(name, part.get_filename(), data, charset))
    return parts


def multipart_fields(content_type: str, raw: bytes) -> dict[str, str]:
    """The text fields (parts without a filename) of a multipart/form-data body."""
    return {
        part.name: part.text()
        for part in multipart_parts(content_type, raw)
        if part.filename is None
    }


def multipart_file(content_type: str, raw: bytes, field: str, what: str = "the file") -> bytes:
    """The bytes of form field `field`, the body's only part; a 400 naming the field when
    it is missing or sent twice, or naming the other fields (refused, never ignored)."""
    parts = multipart_parts(content_type, raw)
    found = [part.data for part in parts if part.name == field]
    if not found:
        raise InvalidParameter(
            f"the multipart body has no '{field}' field with {what}",
            invalid_params=[InvalidParam(field, "missing")],
        )
    if len(found) > 1:
        raise InvalidParameter(
            f"the multipart body has {len(found)} '{field}' parts; send {what} once",
            invalid_params=[InvalidParam(field, "sent more than once")],
        )
    refuse_unknown([part.name for part in parts], (field,), "form")
    return found[0]


def too_large(limit: int) -> str:
    """The detail of every 413 for a body over `limit` bytes (one wording on every route)."""
    mib = 1024 * 1024
    size = f"{limit // mib} MB" if limit % mib == 0 else f"{limit} bytes"
    return f"the request body is over {size}"
