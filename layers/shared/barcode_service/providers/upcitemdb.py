"""UPCitemdb: general merchandise (household, electronics, toys, tools, clothes), by GTIN.

Strongest in North America. Two endpoints, chosen by the secret:
- trial, without a key: `GET <base>/prod/trial/lookup?upc=<code>`, 100 requests a day
  (lookups and searches together) for the caller;
- paid, with `{"upcitemdb": {"user_key": "..."}}` in the secret:
  `GET <base>/prod/v1/lookup?upc=<code>` with headers `user_key` and `key_type: 3scale`.

Answers: `{"code": "OK", "total", "offset", "items": [...]}`, found with one item or
more, not found with none. Errors are `{"code", "message"}`: `INVALID_UPC` (400: the
provider cannot hold such a code, e.g. the trial's refused non-US prefixes) is its "not
found"; `EXCEED_LIMIT` (429) is a quota used up until `X-RateLimit-Reset` (a unix time;
else its `Retry-After`; else the next UTC midnight); `TOO_FAST` (429) asks us to slow
down for its `Retry-After`; `SERVER_ERR` (5xx) is an outage, and 401/403 an account
problem (a paid key refused). Every answer carries `X-RateLimit-Remaining`: at 0 the
answer is kept and the provider is blocked until the reset, so the call it would refuse
is never made. The daily allowance itself is kept by our own fleet limiter
(`RateLimit.per_day`, UPCITEMDB_DAILY_LIMIT), so the provider never has to refuse us.
Every request counts against the allowance, so none is retried at once.

No licence or redistribution terms are published: answers carry an attribution, and
its offers (merchants, prices) and recorded prices are never served, as ours or at all.

`details` of an answer (any may be null or empty): `description`, `category` (Google's
product taxonomy path), `model`, `color`, `size`, `dimension`, `weight` (text as the
provider writes it), `images` (list of URLs), `ean`, `upc`, `isbn`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from ..errors import (
    ServiceError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamQuotaExhausted,
    UpstreamRateLimited,
    UpstreamRejected,
)
from ..gtin import Gtin
from ..transport import (
    RATE_LIMITED_PAUSE,
    Reply,
    Request,
    RetryPolicy,
    exchange,
    with_key_rotation,
)
from .base import (
    ProviderNotFound,
    ProviderProduct,
    RateLimit,
    next_utc_midnight,
    text,
    web_url,
)

NAME = "upcitemdb"
LABEL = "UPCitemdb"
DEFAULT_URL = "https://api.upcitemdb.com"
TRIAL_PATH = "/prod/trial/lookup"
PAID_PATH = "/prod/v1/lookup"
TRIAL_LIMIT = RateLimit(requests=6, per_seconds=60, per_day=100)
"""The trial: 100 requests a day (documented); 6 a minute is our cautious spacing (no
number is published for its `TOO_FAST`)."""

KeySource = Callable[[bool], str | None]
"""Returns the paid plan's user_key, or None for the trial; True bypasses caches."""

_EPOCH_FLOOR = 1_000_000_000
"""An `X-RateLimit-Reset` below this is read as seconds from now, not a unix time."""


class UpcitemdbProvider:
    """Products from UPCitemdb, trial or paid endpoint by the key's presence."""

    name = NAME
    attribution: str | None = (
        "Product data from UPCitemdb (upcitemdb.com); its offers and prices are not included."
    )

    def __init__(
        self,
        base_url: str,
        session: requests.Session,
        key: KeySource,
        *,
        policy: RetryPolicy,
        limit: RateLimit = TRIAL_LIMIT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base_url = (base_url or DEFAULT_URL).rstrip("/")
        self.session = session
        self._key = key
        # One attempt: each request counts against the day's allowance, answered or not.
        self.policy = dataclasses.replace(policy, attempts=1)
        self.limit = limit
        self._clock = clock

    def serves(self, gtin: Gtin) -> bool:
        return True  # general merchandise, books included

    def prepare(self) -> None:
        """Read the key now (the secret store caches it), so the call leaves in its slot."""
        self._key(False)

    def quota_reset(self, now: datetime) -> datetime:
        return next_utc_midnight(now)  # a daily allowance; its header says when, if it can

    def lookup(self, gtin: Gtin, deadline: float) -> ProviderProduct | ProviderNotFound:
        code = gtin.upstream_code
        return with_key_rotation(self._key, lambda key: self._lookup(code, key, deadline))

    def _lookup(
        self, code: str, key: str | None, deadline: float
    ) -> ProviderProduct | ProviderNotFound:
        paid = key is not None
        request = Request(
            LABEL,
            self.base_url + (PAID_PATH if paid else TRIAL_PATH),
            params={"upc": code},
            headers={"user_key": key, "key_type": "3scale"} if key is not None else None,
            accept=frozenset({200, 400}),
            refusals={429: self._refused, 401: _key_refused, 403: _key_refused},
            retry_timeouts=False,
        )
        return exchange(self.session, request, self.policy, self._read, deadline=deadline)

    def _read(self, reply: Reply) -> ProviderProduct | ProviderNotFound:
        body = reply.json()
        if not isinstance(body, dict):
            raise UpstreamError(f"{LABEL} sent an unexpected body")
        code = text(body.get("code"))
        spent = self._spent(reply)
        if reply.status == 200 and code == "OK":
            items = body.get("items")
            if items == []:
                return ProviderNotFound(quota_spent_until=spent)
            if isinstance(items, list) and isinstance(items[0], dict):
                return _product(items[0], spent)
        elif code == "INVALID_UPC":
            return ProviderNotFound(quota_spent_until=spent)
        elif code == "INVALID_QUERY":
            raise UpstreamRejected(f"{LABEL} says our query is invalid")
        raise UpstreamError(f"{LABEL} sent an unknown answer")

    def _refused(self, reply: Reply) -> ServiceError:
        """A 429: the day's allowance used up (EXCEED_LIMIT), or too fast (TOO_FAST)."""
        try:
            body = reply.json()
        except UpstreamError:
            body = None
        code = text(body.get("code")) if isinstance(body, dict) else None
        if code == "EXCEED_LIMIT":
            reset, stated = self._reset(reply)
            return UpstreamQuotaExhausted(
                f"{LABEL}'s daily allowance is used up",
                reset_at=reset,
                now=self._clock(),
                stated=stated,
            )
        pause = _seconds(reply.headers.get("Retry-After"))
        return UpstreamRateLimited(
            f"{LABEL} asks us to slow down",
            retry_after=max(1, math.ceil(pause)) if pause is not None else RATE_LIMITED_PAUSE,
        )

    def _spent(self, reply: Reply) -> datetime | None:
        """When the allowance comes back, if this answer was the last it gives (remaining 0)."""
        remaining = _seconds(reply.headers.get("X-RateLimit-Remaining"))
        if remaining is None or remaining > 0:
            return None
        return self._reset(reply)[0]

    def _reset(self, reply: Reply) -> tuple[datetime, bool]:
        """(when the allowance comes back, whether the provider said so)."""
        now = self._clock()
        reset = _seconds(reply.headers.get("X-RateLimit-Reset"))
        if reset is not None and reset >= _EPOCH_FLOOR:
            return datetime.fromtimestamp(reset, UTC), True
        if reset is not None:
            return now + timedelta(seconds=reset), True
        pause = _seconds(reply.headers.get("Retry-After"))
        if pause is not None:
            return now + timedelta(seconds=pause), True
        return next_utc_midnight(now), False


def _key_refused(reply: Reply) -> ServiceError:
    return UpstreamAuthFailed(f"{LABEL} refused the user_key (HTTP {reply.status})")


def _seconds(value: str | None) -> float | None:
    """A header's number (seconds, a count or a unix time), when it is one."""
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return max(0.0, number) if math.isfinite(number) else None


def _product(item: dict[str, Any], spent: datetime | None) -> ProviderProduct:
    listed = item.get("images")
    images = [u for u in map(web_url, listed) if u] if isinstance(listed, list) else []
    return ProviderProduct(
        name=text(item.get("title")),
        brand=text(item.get("brand")),
        company=text(item.get("publisher")),
        spec=text(item.get("size")),
        image_url=images[0] if images else None,
        quota_spent_until=spent,
        details={
            "description": text(item.get("description")),
            "category": text(item.get("category")),
            "model": text(item.get("model")),
            "color": text(item.get("color")),
            "size": text(item.get("size")),
            "dimension": text(item.get("dimension")),
            "weight": text(item.get("weight")),
            "images": images,
            "ean": text(item.get("ean")),
            "upc": text(item.get("upc")),
            "isbn": text(item.get("isbn")),
        },
    )
