"""Hostile input for the "never a 5xx" property tests: strategies, events, the verdict.

Text is arbitrary Unicode, lone surrogates included (Hypothesis leaves them out unless
asked), plus the spellings that broke routes before (issue 22); bytes are arbitrary,
with the undecodable pairs that did; sizes go past the routes' limits now and then.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from hypothesis import strategies as st

from tests.conftest import load_event, response_headers

SURROGATES = ("\ud800", "\udfff", "a\udcff", "6901234567892\ud800", "\ud83d")
SPECIAL_TEXT = (
    *SURROGATES,
    "",
    " ",
    "\x00",
    "\ufeff",
    "6901234567892",
    "(01)09506000134352(17)271231",
    "https://id.gs1.org/01/09506000134352",
    "ean13",
    "qrcode",
    "300",
    "4000",
    "-1",
    "NaN",
    "true",
    "条码",
    "x" * 5000,
)
SPECIAL_BYTES = (b"\xff\xfe", b"\x80", b"\xed\xa0\x80", b"\xc3", b"\x00", b"{", b"")

characters = st.one_of(st.characters(), st.characters(categories=["Cs"]))
text = st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(characters, max_size=40))
raw_bytes = st.one_of(st.sampled_from(SPECIAL_BYTES), st.binary(max_size=64))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


def _names(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(names), text) if names else text


def members(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object whose members are mostly the route's own names, with any values."""
    return st.dictionaries(_names(names), json_values, max_size=6)


def params(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    """A query string or form: mostly the route's own names, any text as values."""
    return st.dictionaries(_names(names), text, max_size=6)


def json_text(value: Any) -> str:
    """`value` as JSON text: surrogates stay escapes (`"\\ud800"`), as a client sends them."""
    return json.dumps(value)


def multipart(parts: list[tuple[str, bytes, str | None]], boundary: str = "b0undary") -> bytes:
    """A multipart/form-data body: (name, bytes, filename or None) per part."""
    out = b""
    for name, data, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode(
                "utf-8", "surrogatepass"
            )
            + data
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


def rest_event(
    method: str,
    resource: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    content_type: str | None = None,
    body: str | bytes | None = None,
) -> dict[str, Any]:
    """A REST API proxy event as API Gateway sends it (stage v1): bytes go base64."""
    event = copy.deepcopy(load_event("lookup_get.json"))
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "content-type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    encoded = isinstance(body, bytes)
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters=path_parameters,
        body=base64.b64encode(body).decode() if isinstance(body, bytes) else body,
        isBase64Encoded=encoded,
    )
    event["requestContext"].update(resourcePath=resource, path=f"/v1{path}", httpMethod=method)
    return event


def assert_never_5xx(response: dict[str, Any]) -> None:
    """A Lambda proxy answer that is a success or a 4xx problem, and that API Gateway can
    send: its body valid UTF-8 text (a lone surrogate cannot be encoded)."""
    status = int(response["statusCode"])
    body = response.get("body") or ""
    assert status < 500, (status, body[:300])
    body.encode("utf-8")  # raises on a lone surrogate: a 502 from API Gateway
    headers = {k.lower(): v for k, v in response_headers(response).items()}
    for value in headers.values():
        str(value).encode("latin-1")  # what HTTP headers can carry
    if status >= 400:
        assert headers.get("content-type") == "application/problem+json", (status, headers)
        problem = json.loads(body)
        assert problem["status"] == status
        assert problem["code"]
