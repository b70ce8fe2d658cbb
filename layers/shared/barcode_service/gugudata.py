"""Client for GuGuData's barcode generation API (appkey, type, content, width, height -> URL).

Everything GuGuData-specific stops here: PascalCase/camelCase bodies, plain-text
validation errors, HTTP and business status codes become a `GeneratedImage` or a
typed `ServiceError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from .errors import (
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInArrears,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from .redaction import redact
from .transport import (
    Reply,
    Request,
    Retryable,
    RetryPolicy,
    exchange,
    looks_like_html,
    new_session,
    with_key_rotation,
)

LABEL = "generation upstream"
MAX_IMAGE_BYTES = 2_000_000
"""Cap on an image downloaded from the upstream's CDN (its barcodes are a few kB)."""

RequestMode = Literal["get", "form", "multipart", "json"]
AppkeySource = Callable[[bool], str]
"""Returns the appkey; called with True to bypass caches after an auth failure."""


@dataclass(frozen=True)
class GeneratedImage:
    url: str


def _pick(mapping: Any, *names: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


class GuGuDataClient:
    """Generates barcode images at the upstream; one keep-alive session per client."""

    def __init__(
        self,
        url: str,
        appkey: AppkeySource,
        *,
        mode: RequestMode = "get",
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self._appkey = appkey
        self.mode = mode
        self.policy = policy or RetryPolicy()
        self.session = session or new_session()

    def generate(
        self, *, type: str, content: str, width: int, height: int, show_label: bool = False
    ) -> GeneratedImage:
        """Ask the upstream for an image; refetches the key once if it is rejected."""
        params = {
            "type": type,
            "content": content,
            "width": str(width),
            "height": str(height),
            "showLabel": "true" if show_label else "false",
        }
        return with_key_rotation(
            self._appkey,
            lambda key: exchange(
                self.session, self._request(params, key), self.policy, lambda r: self._read(r, key)
            ),
        )

    def fetch_image(self, url: str, *, limit: int = MAX_IMAGE_BYTES) -> bytes:
        """The bytes at an image URL the upstream answered, through the same session,
        retries and deadline; over `limit` bytes is an UpstreamError.

        The URL is never put into an error or a log line: a CDN URL can carry a token.
        """
        if not _is_https_url(url):
            raise UpstreamError(f"{LABEL} image URL is not https")
        request = Request(f"{LABEL} image", url, limit=limit)
        return exchange(self.session, request, self.policy, lambda reply: reply.body)

    def _request(self, params: dict[str, str], key: str) -> Request:
        """The request in the configured mode; the vendor's own meanings of 400/401/403."""
        refusals = {
            400: lambda reply: UpstreamRejected(
                f"{LABEL} rejected the parameters: {_short(reply.text, key)}"
            ),
            401: lambda reply: UpstreamAuthFailed(f"{LABEL} refused the appkey (HTTP 401)"),
            403: lambda reply: UpstreamAuthFailed(f"{LABEL} refused the appkey (HTTP 403)"),
        }
        if self.mode == "get":
            return Request(LABEL, self.url, params={"appkey": key, **params}, refusals=refusals)
        if self.mode == "form":
            form = {"appkey": key, **params}
            return Request(LABEL, self.url, "POST", data=form, refusals=refusals)
        if self.mode == "multipart":
            fields = {name: (None, value) for name, value in {"appkey": key, **params}.items()}
            return Request(LABEL, self.url, "POST", files=fields, refusals=refusals)
        body: dict[str, Any] = {
            "type": params["type"],
            "content": params["content"],
            "width": int(params["width"]),
            "height": int(params["height"]),
            "showLabel": params["showLabel"] == "true",
        }
        return Request(
            LABEL, self.url, "POST", params={"appkey": key}, json=body, refusals=refusals
        )

    def _read(self, reply: Reply, key: str) -> GeneratedImage:
        # Decoded by Reply.text, not by requests: its text/* default (ISO-8859-1) garbles
        # Chinese messages, and a .NET-style UTF-8 BOM would make valid JSON look like text.
        text = reply.text
        try:
            body = json.loads(text)
        except ValueError:
            if not text.strip() or looks_like_html(text):
                raise UpstreamError(f"{LABEL} sent an unreadable body") from None
            # BarcodeLib-style validation message sent as plain text.
            raise UpstreamRejected(f"{LABEL} rejected the content: {_short(text, key)}") from None
        return self._parse_body(body, key)

    def _parse_body(self, body: Any, key: str) -> GeneratedImage:
        data_status = _pick(body, "DataStatus", "dataStatus")
        code = _pick(data_status, "StatusCode", "statusCode")
        description = _pick(data_status, "StatusDescription", "statusDescription")
        detail = _short(str(description), key) if description else "no description"
        try:
            code = int(code)
        except (TypeError, ValueError, OverflowError):
            raise UpstreamError(f"{LABEL} sent a body without a status code") from None
        if code == 100:
            data = _pick(body, "Data", "data")
            url = _pick(data, "Url", "url")
            if not isinstance(url, str) or not _is_https_url(url.strip()):
                raise UpstreamError(f"{LABEL} did not return an https URL")
            return GeneratedImage(url=url.strip())
        if code == 101:
            raise UpstreamRejected(f"{LABEL} parameter error: {detail}")
        if code == 102:
            raise Retryable(UpstreamRateLimited(f"{LABEL} rate limit reached"))
        if code == 103:
            raise UpstreamInArrears(f"{LABEL} account is in arrears")
        if code == 104:
            raise UpstreamAuthFailed(f"{LABEL} refused the appkey")
        if code == 110:
            raise Retryable(UpstreamUnavailable(f"{LABEL} response error: {detail}"))
        raise UpstreamError(f"{LABEL} sent unknown status {code}")


def _is_https_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a broken IPv6 host
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def _short(text: str, key: str, limit: int = 200) -> str:
    """An upstream message fit for an error detail: one line, short, without the appkey."""
    text = redact(" ".join(text.split()), (key,))
    return text if len(text) <= limit else text[: limit - 1] + "…"
