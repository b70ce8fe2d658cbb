"""Baichuan (百川条码查询): the paid lookup API, its client and its provider adapter.

Everything Baichuan-specific stops here: the Chinese `msg` strings, the `code_*`
field names, string-typed values and relative image paths become an
`UpstreamProduct`, an `UpstreamNotFound`, or a typed `ServiceError`. Queries are
billed, so a read timeout is not retried (the query may have counted). Keys come
from the secret with rotation; no key configured is `CredentialsNotConfigured`,
which the router reports as `not_configured`. Asked last by default.

`details` of an answer: `category` (the provider's `code_type`, e.g. 食品), or null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import (
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamKeyDisabled,
    UpstreamNoPlan,
    UpstreamPlanExhausted,
    UpstreamQuotaExhausted,
    UpstreamRejected,
)
from ..gtin import Gtin
from ..transport import Reply, Request, RetryPolicy, exchange, new_session, with_key_rotation
from .base import ProviderNotFound, ProviderProduct, RateLimit, text

NAME = "baichuan"
LABEL = "lookup upstream"
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
    """A Baichuan value as text: numbers (Decimal, as the JSON wrote them) as written."""
    if isinstance(value, Decimal):
        value = str(value)
    return text(value)


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
        self, code: str, *, deadline: float | None = None
    ) -> UpstreamProduct | UpstreamNotFound:
        """Look `code` (EAN-13/EAN-8 digits) up by `deadline` (time.monotonic());
        refetches the keys once if they are rejected."""
        return with_key_rotation(self._keys, lambda keys: self._query(code, keys, deadline))

    def _query(
        self, code: str, keys: tuple[str, str], deadline: float | None
    ) -> UpstreamProduct | UpstreamNotFound:
        form = {"api_key": keys[0], "secret_key": keys[1], "code_sn": code}
        request = Request(LABEL, self.url, "POST", data=form, retry_timeouts=False)
        return exchange(
            self.session, request, self.policy, lambda r: self._read(r, code), deadline=deadline
        )

    def _read(self, reply: Reply, queried: str) -> UpstreamProduct | UpstreamNotFound:
        # Decimal keeps a numeric price as written ("29.90", not "29.9").
        body = reply.json(parse_float=Decimal)
        if not isinstance(body, dict):
            raise UpstreamError(f"{LABEL} sent an unexpected body")
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
            raise UpstreamRejected(f"{LABEL} says a required parameter is missing")
        if MSG_BAD_KEY in msg:
            raise UpstreamAuthFailed(f"{LABEL} rejected the API key or secret key")
        if MSG_KEY_DISABLED in msg:
            raise UpstreamKeyDisabled(f"{LABEL} has disabled the API key")
        if MSG_NO_PLAN in msg:
            raise UpstreamNoPlan(f"{LABEL} account has no active plan")
        if MSG_PLAN_USED_UP in msg:
            raise UpstreamPlanExhausted(f"{LABEL} plan's query count is used up")
        if MSG_DAILY_USED_UP in msg:
            now = self._clock()
            raise UpstreamQuotaExhausted(
                f"{LABEL} daily query count is used up", reset_at=next_china_midnight(now), now=now
            )
        raise UpstreamError(f"{LABEL} sent an unknown answer")

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


class BaichuanProvider:
    """Products (mostly sold in China) from the Baichuan API; billed per found product."""

    name = NAME
    attribution: str | None = None  # no licence asks for one; the provider disclaims accuracy

    def __init__(self, client: Callable[[], BaichuanClient], limit: RateLimit) -> None:
        self._client = client  # the wiring's Lazy: the client and its secret on first use
        self.limit = limit

    @property
    def client(self) -> BaichuanClient:
        return self._client()

    def serves(self, gtin: Gtin) -> bool:
        return True

    def prepare(self) -> None:
        self.client.ready()

    def quota_reset(self, now: datetime) -> datetime:
        return next_china_midnight(now)  # the daily count resets at 00:00 China time

    def lookup(self, gtin: Gtin, deadline: float) -> ProviderProduct | ProviderNotFound:
        answer = self.client.query(gtin.upstream_code, deadline=deadline)
        if isinstance(answer, UpstreamNotFound):
            return ProviderNotFound(country=answer.country)
        return ProviderProduct(
            name=answer.name,
            brand=answer.brand,
            company=answer.company,
            price=answer.price,
            spec=answer.spec,
            unit=answer.unit,
            image_url=answer.image_url,
            country=answer.country,
            details={"category": answer.type},
        )
