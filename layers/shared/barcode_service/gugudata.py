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
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .redaction import redact
from .transport import (
    BodyTooLarge,
    Retryable,
    RetryPolicy,
    attempt_deadline,
    looks_like_html,
    new_session,
    read_body,
    retry_after_seconds,
    with_key_rotation,
    with_retries,
)

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
            lambda key: with_retries(lambda t: self._attempt(params, key, t), self.policy),
        )

    def fetch_image(self, url: str, *, limit: int = MAX_IMAGE_BYTES) -> bytes:
        """The bytes at an image URL the upstream answered, through the same session,
        retries and deadline; over `limit` bytes is an UpstreamError.

        The URL is never put into an error or a log line: a CDN URL can carry a token.
        """
        if not _is_https_url(url):
            raise UpstreamError("generation upstream image URL is not https")
        return with_retries(lambda timeout: self._download(url, timeout, limit), self.policy)

    def _download(self, url: str, timeout: tuple[float, float], limit: int) -> bytes:
        deadline = attempt_deadline(timeout)
        try:
            with self.session.get(url, timeout=timeout, stream=True) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise Retryable(
                        UpstreamUnavailable(f"generation upstream image failed (HTTP {status})"),
                        retry_after_seconds(response),
                    )
                if status != 200:
                    raise UpstreamError(f"generation upstream image answered HTTP {status}")
                return read_body(response, deadline, limit)
        except requests.Timeout:
            raise Retryable(UpstreamTimeout("generation upstream image timed out")) from None
        except BodyTooLarge:
            raise UpstreamError(f"generation upstream image is over {limit} bytes") from None
        except requests.RequestException:
            raise Retryable(UpstreamUnavailable("generation upstream image unreachable")) from None

    def _send(
        self, params: dict[str, str], key: str, timeout: tuple[float, float]
    ) -> requests.Response:
        # Streamed: the body is read by `read_body`, within the attempt's deadline.
        if self.mode == "get":
            query = {"appkey": key, **params}
            return self.session.get(self.url, params=query, timeout=timeout, stream=True)
        if self.mode == "form":
            form = {"appkey": key, **params}
            return self.session.post(self.url, data=form, timeout=timeout, stream=True)
        if self.mode == "multipart":
            fields = {name: (None, value) for name, value in {"appkey": key, **params}.items()}
            return self.session.post(self.url, files=fields, timeout=timeout, stream=True)
        body: dict[str, Any] = {
            "type": params["type"],
            "content": params["content"],
            "width": int(params["width"]),
            "height": int(params["height"]),
            "showLabel": params["showLabel"] == "true",
        }
        return self.session.post(
            self.url, params={"appkey": key}, json=body, timeout=timeout, stream=True
        )

    def _attempt(
        self, params: dict[str, str], key: str, timeout: tuple[float, float]
    ) -> GeneratedImage:
        deadline = attempt_deadline(timeout)
        try:
            with self._send(params, key, timeout) as response:
                read_body(response, deadline)
        except requests.Timeout:
            # Generation is not billed per attempt and is idempotent: a retry can help.
            raise Retryable(UpstreamTimeout("generation upstream timed out")) from None
        except BodyTooLarge:
            raise UpstreamError("generation upstream sent a body too large") from None
        except requests.RequestException:
            raise Retryable(UpstreamUnavailable("generation upstream unreachable")) from None
        return self._parse(response, key)

    def _parse(self, response: requests.Response, key: str) -> GeneratedImage:
        status = response.status_code
        # Decoded here, not by requests: its text/* default (ISO-8859-1) garbles Chinese
        # messages, and a .NET-style UTF-8 BOM would make valid JSON look like plain text.
        text = _decode(response)
        if status == 400:
            raise UpstreamRejected(
                f"generation upstream rejected the parameters: {_short(text, key)}"
            )
        if status in (401, 403):
            raise UpstreamAuthFailed(f"generation upstream refused the appkey (HTTP {status})")
        if status == 429:
            raise Retryable(
                UpstreamRateLimited("generation upstream rate limit reached"),
                retry_after_seconds(response),
            )
        if status >= 500:
            raise Retryable(
                UpstreamUnavailable(f"generation upstream failed (HTTP {status})"),
                retry_after_seconds(response),
            )
        if status != 200:
            raise UpstreamError(f"generation upstream answered HTTP {status}")

        try:
            body = json.loads(text)
        except ValueError:
            if not text.strip() or looks_like_html(text):
                raise UpstreamError("generation upstream sent an unreadable body") from None
            # BarcodeLib-style validation message sent as plain text.
            raise UpstreamRejected(
                f"generation upstream rejected the content: {_short(text, key)}"
            ) from None
        return self._parse_body(body, key)

    def _parse_body(self, body: Any, key: str) -> GeneratedImage:
        data_status = _pick(body, "DataStatus", "dataStatus")
        code = _pick(data_status, "StatusCode", "statusCode")
        description = _pick(data_status, "StatusDescription", "statusDescription")
        detail = _short(str(description), key) if description else "no description"
        try:
            code = int(code)
        except (TypeError, ValueError, OverflowError):
            raise UpstreamError("generation upstream sent a body without a status code") from None
        if code == 100:
            data = _pick(body, "Data", "data")
            url = _pick(data, "Url", "url")
            if not isinstance(url, str) or not _is_https_url(url.strip()):
                raise UpstreamError("generation upstream did not return an https URL")
            return GeneratedImage(url=url.strip())
        if code == 101:
            raise UpstreamRejected(f"generation upstream parameter error: {detail}")
        if code == 102:
            raise Retryable(UpstreamRateLimited("generation upstream rate limit reached"))
        if code == 103:
            raise UpstreamInArrears("generation upstream account is in arrears")
        if code == 104:
            raise UpstreamAuthFailed("generation upstream refused the appkey")
        if code == 110:
            raise Retryable(UpstreamUnavailable(f"generation upstream response error: {detail}"))
        raise UpstreamError(f"generation upstream sent unknown status {code}")


def _decode(response: requests.Response) -> str:
    try:
        return response.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return response.text


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
