"""Client for the Baichuan barcode query API (api_key, secret_key, code_sn -> product).

Everything Baichuan-specific stops here: the Chinese `msg` strings, the `code_*`
field names, string-typed values and relative image paths become an
`UpstreamProduct`, an `UpstreamNotFound`, or a typed `ServiceError`.
Queries are billed, so a read timeout is not retried (the query may have counted).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from .errors import (
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamKeyDisabled,
    UpstreamNoPlan,
    UpstreamPlanExhausted,
    UpstreamQuotaExhausted,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
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

CHINA_TZ = timezone(timedelta(hours=8))

MSG_FOUND = "查询成功"
MSG_NOT_FOUND = "未找到该条形码对应的产品信息"
MSG_MISSING_PARAMETER = "参数不完整"
MSG_BAD_KEY = "API Key或Secret Key错误"
MSG_KEY_DISABLED = "API Key已被禁用"
MSG_NO_PLAN = "无可用的套餐"
MSG_PLAN_USED_UP = "套餐查询次数已用完"
MSG_DAILY_USED_UP = "今日查询次数已用完"

KeysSource = Callable[[bool], tuple[str, str]]
"""Returns (api_key, secret_key); called with True to bypass caches after an auth failure."""


@dataclass(frozen=True)
class UpstreamProduct:
    code: str
    name: str | None
    type: str | None
    company: str | None
    price: str | None
    spec: str | None
    unit: str | None
    brand: str | None
    image_url: str | None
    country: str | None


@dataclass(frozen=True)
class UpstreamNotFound:
    country: str | None


def next_china_midnight(now: datetime | None = None) -> datetime:
    """When the upstream's daily quota resets: the next 00:00 in UTC+8, as an aware datetime."""
    now = now or datetime.now(UTC)
    local = now.astimezone(CHINA_TZ)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


class BaichuanClient:
    """Looks products up at the upstream; one keep-alive session per client."""

    def __init__(
        self,
        url: str,
        keys: KeysSource,
        *,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url
        self._keys = keys
        self.policy = policy or RetryPolicy()
        self.session = session or new_session()
        self._clock = clock
        parts = urlsplit(url)
        self._origin = f"{parts.scheme}://{parts.netloc}/"

    def ready(self) -> None:
        """Fetch the keys now (their source caches them), so a query's time is the network's."""
        self._keys(False)

    def query(
        self, code: str, policy: RetryPolicy | None = None
    ) -> UpstreamProduct | UpstreamNotFound:
        """Look `code` (EAN-13/EAN-8 digits) up; refetches the keys once if rejected.

        `policy` replaces the client's own for this query (e.g. a shorter deadline).
        """
        budget = policy or self.policy
        return with_key_rotation(
            self._keys,
            lambda keys: with_retries(lambda t: self._attempt(code, keys, t), budget),
        )

    def _attempt(
        self, code: str, keys: tuple[str, str], timeout: tuple[float, float]
    ) -> UpstreamProduct | UpstreamNotFound:
        form = {"api_key": keys[0], "secret_key": keys[1], "code_sn": code}
        deadline = attempt_deadline(timeout)
        try:
            # Streamed, so that the body is read within the attempt's deadline.
            with self.session.post(self.url, data=form, timeout=timeout, stream=True) as response:
                read_body(response, deadline)
        except requests.ConnectTimeout:
            raise Retryable(UpstreamUnavailable("lookup upstream unreachable")) from None
        except requests.Timeout:
            raise UpstreamTimeout("lookup upstream timed out") from None
        except BodyTooLarge:
            raise UpstreamError("lookup upstream sent a body too large") from None
        except requests.RequestException:
            raise Retryable(UpstreamUnavailable("lookup upstream unreachable")) from None
        return self._parse(response, code)

    def _parse(
        self, response: requests.Response, queried: str
    ) -> UpstreamProduct | UpstreamNotFound:
        status = response.status_code
        if status == 429:
            raise Retryable(
                UpstreamRateLimited("lookup upstream rate limit reached"),
                retry_after_seconds(response),
            )
        if status >= 500:
            raise Retryable(
                UpstreamUnavailable(f"lookup upstream failed (HTTP {status})"),
                retry_after_seconds(response),
            )
        if status != 200:
            raise UpstreamError(f"lookup upstream answered HTTP {status}")
        text = response.content.decode("utf-8-sig", errors="replace")
        if looks_like_html(text):
            raise UpstreamError("lookup upstream sent an HTML page")
        try:
            # Decimal keeps a numeric price as written ("29.90", not "29.9").
            body = json.loads(text, parse_float=Decimal)
        except ValueError:
            raise UpstreamError("lookup upstream sent invalid JSON") from None
        if not isinstance(body, dict):
            raise UpstreamError("lookup upstream sent an unexpected body")
        return self._interpret(body, queried)

    def _interpret(self, body: dict[str, Any], queried: str) -> UpstreamProduct | UpstreamNotFound:
        msg = _text(body.get("msg")) or ""
        data = body.get("data")
        code = str(body.get("code", "")).strip()
        if code == "1" and isinstance(data, dict) and (MSG_FOUND in msg or not msg):
            return self._product(data, queried)
        if MSG_NOT_FOUND in msg:
            country = _text(data.get("country")) if isinstance(data, dict) else None
            return UpstreamNotFound(country=country)
        if MSG_MISSING_PARAMETER in msg:
            raise UpstreamRejected("lookup upstream says a required parameter is missing")
        if MSG_BAD_KEY in msg:
            raise UpstreamAuthFailed("lookup upstream rejected the API key or secret key")
        if MSG_KEY_DISABLED in msg:
            raise UpstreamKeyDisabled("lookup upstream has disabled the API key")
        if MSG_NO_PLAN in msg:
            raise UpstreamNoPlan("lookup upstream account has no active plan")
        if MSG_PLAN_USED_UP in msg:
            raise UpstreamPlanExhausted("lookup upstream plan's query count is used up")
        if MSG_DAILY_USED_UP in msg:
            now = self._clock()
            raise UpstreamQuotaExhausted(
                "lookup upstream daily query count is used up",
                reset_at=next_china_midnight(now),
                now=now,
            )
        raise UpstreamError("lookup upstream sent an unknown answer")

    def _product(self, data: dict[str, Any], queried: str) -> UpstreamProduct:
        return UpstreamProduct(
            code=_text(data.get("code_sn")) or queried,
            name=_text(data.get("code_name")),
            type=_text(data.get("code_type")),
            company=_text(data.get("code_company")),
            price=_text(data.get("code_price")),
            spec=_text(data.get("code_spec")),
            unit=_text(data.get("code_unit")),
            brand=_text(data.get("code_pinpai")),
            image_url=self._image_url(_text(data.get("code_img"))),
            country=_text(data.get("code_country")),
        )

    def _image_url(self, image: str | None) -> str | None:
        """An absolute http(s) URL for `code_img` (often relative to the provider's host)."""
        if image is None:
            return None
        try:
            if not urlsplit(image).scheme:
                image = urljoin(self._origin, image)
            parts = urlsplit(image)
        except ValueError:  # e.g. a broken IPv6 host: no image rather than no product
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        return image
