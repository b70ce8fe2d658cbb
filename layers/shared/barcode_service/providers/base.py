"""What every product provider is: the Protocol, its typed answers and outcomes.

A provider module translates one API's spelling into a `ProviderProduct` (our
product fields plus documented `details`) or a `ProviderNotFound`, and raises the
typed `ServiceError`s of `errors.py` for everything else (the router's `ask` turns
either into a `ProviderResult`); nothing past a provider module sees a provider's
field names or messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..gtin import Gtin
from ..product import PRODUCT_FIELDS, ProductFields


@dataclass(frozen=True)
class RateLimit:
    """A provider's documented (or polite) limit: `requests` per `per_seconds`, fleet-wide.

    `burst` 1: a window limit (no window of `per_seconds` may hold more than `requests`
    calls), kept with evenly spaced calls. `burst` > 1: a token bucket of that depth
    refilled at the rate, as API Gateway throttles (Baichuan's limit is the lookup
    routes' LookupRateLimit and LookupBurstLimit); the depth absorbs calls that leave late.
    """

    requests: float
    per_seconds: float = 60.0
    burst: int = 1
    per_day: int = 0
    """Calls the whole fleet may make per UTC day, on top of the rate (a provider's daily
    allowance, e.g. UPCitemdb's trial); 0: none."""

    @property
    def interval(self) -> float:
        """Seconds between two calls that keep to the limit in every window."""
        return self.per_seconds / self.requests


@dataclass(frozen=True)
class ProviderProduct(ProductFields):
    """A product in our field names; `details` are provider-specific and documented.

    `attribution`: this answer's own (a family of databases names the one that
    answered), else the provider's. `quota_spent_until`: the provider said this was the
    last call its allowance gives before then (e.g. `X-RateLimit-Remaining: 0`).
    """

    details: Mapping[str, Any] = field(default_factory=dict)
    attribution: str | None = None
    quota_spent_until: datetime | None = None

    def fields(self) -> ProductFields:
        """The common product fields of this answer (without its details)."""
        return ProductFields(**{name: getattr(self, name) for name in PRODUCT_FIELDS})


@dataclass(frozen=True)
class ProviderNotFound:
    """The provider answered that it does not know the code (`country` if it says one;
    `quota_spent_until` as for a product)."""

    country: str | None = None
    quota_spent_until: datetime | None = None


class Provider(Protocol):
    """One product source. Adding one: a module with a class like this, plus a registry line."""

    @property
    def name(self) -> str:
        """Stable name used in LOOKUP_PROVIDERS, answers, cache items and limiter keys."""
        ...

    @property
    def attribution(self) -> str | None:
        """Text naming the data's source and licence, shown with every answer it gives."""
        ...

    @property
    def limit(self) -> RateLimit:
        """The rate the whole fleet keeps to when calling this provider."""
        ...

    def serves(self, gtin: Gtin) -> bool:
        """Whether this provider can know `gtin` at all (e.g. only ISBNs for a book source)."""
        ...

    def lookup(self, gtin: Gtin, deadline: float) -> ProviderProduct | ProviderNotFound:
        """Ask for `gtin`, finishing by `deadline` (time.monotonic()); raises ServiceError."""
        ...

    def quota_reset(self, now: datetime) -> datetime:
        """When a used-up quota of this provider comes back, seen from `now`."""
        ...

    def prepare(self) -> None:
        """Do the local work a call needs (client, credentials) before a limiter slot is
        taken, so that the call leaves in its slot; CredentialsNotConfigured if it has none."""
        ...


def an_hour_later(now: datetime) -> datetime:
    """`quota_reset` of a provider that documents no quota period."""
    return now + timedelta(hours=1)


def next_utc_midnight(now: datetime) -> datetime:
    """The start of the next UTC day after `now` (an aware datetime)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def is_book(gtin: Gtin) -> bool:
    """A Bookland EAN (978/979) that is an ISBN: 979-0 is sheet music (ISMN), not a book."""
    ean13 = gtin.gtin14[1:] if gtin.gtin14.startswith("0") else ""
    return ean13.startswith(("978", "979")) and not ean13.startswith("9790")


def is_periodical_or_book(gtin: Gtin) -> bool:
    """977 (ISSN), 978/979 (ISBN, ISMN): publications, not goods with product records."""
    ean13 = gtin.gtin14[1:] if gtin.gtin14.startswith("0") else ""
    return ean13.startswith(("977", "978", "979"))


def text(value: Any) -> str | None:
    """A provider's value as trimmed text; numbers as written; empty and non-text -> None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def text_list(value: Any) -> list[str]:
    """A comma-separated text (or a list of texts) as a list of non-empty texts."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    return [item for item in (text(part) for part in items) if item]


def web_url(value: Any) -> str | None:
    """An absolute http(s) URL, or None."""
    url = text(value)
    if url is None or not url.lower().startswith(("https://", "http://")):
        return None
    return url
