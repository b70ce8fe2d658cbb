"""Open Food Facts and its sister databases (beauty, pet food, products): API v2 by barcode.

`GET <base>/api/v2/product/<barcode>?fields=...`: `status: 1` with a `product` is
found; `status: 0` is not found, answered with HTTP 404 by current servers and 200
by older ones (both accepted). Only the fields we use are asked for (full records
are tens of KB). The data is ODbL and the images CC BY-SA, so every answer carries
an attribution. The four databases share this module: same paths, same shapes,
their own host, their own limiter key.

`details` of an answer (any may be null or empty):
`generic_name`, `quantity`, `categories` (list), `nutriscore_grade` (a-e),
`nova_group` (1-4), `ingredients_text`, `allergens` (list, e.g. "milk"),
`sold_in` (countries where it is sold, list), `manufacturing_places`, `language`,
`url` (the product's page at the provider).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from ..errors import UpstreamError
from ..gtin import Gtin
from ..transport import Reply, Request, RetryPolicy, exchange
from .base import (
    ProviderNotFound,
    ProviderProduct,
    RateLimit,
    an_hour_later,
    is_periodical_or_book,
    text,
    text_list,
    web_url,
)

FIELDS = (
    "code,status,product_name,product_name_en,generic_name,brands,brand_owner,quantity,"
    "product_quantity,product_quantity_unit,image_front_url,image_url,categories,countries,"
    "origins,manufacturing_places,nutriscore_grade,nova_group,ingredients_text,allergens_tags,"
    "lang"
)

DOCUMENTED_LIMIT = RateLimit(requests=100, per_seconds=60)
"""Open Food Facts: 100 product reads per minute per client; more may get the IP banned."""


@dataclass(frozen=True)
class FactsDatabase:
    title: str
    default_url: str


DATABASES = {
    "openfoodfacts": FactsDatabase("Open Food Facts", "https://world.openfoodfacts.org"),
    "openbeautyfacts": FactsDatabase("Open Beauty Facts", "https://world.openbeautyfacts.org"),
    "openpetfoodfacts": FactsDatabase("Open Pet Food Facts", "https://world.openpetfoodfacts.org"),
    "openproductsfacts": FactsDatabase(
        "Open Products Facts", "https://world.openproductsfacts.org"
    ),
}


class OpenFactsProvider:
    """One of the Open Food Facts family of databases."""

    def __init__(
        self,
        name: str,
        base_url: str,
        session: requests.Session,
        *,
        policy: RetryPolicy,
        limit: RateLimit = DOCUMENTED_LIMIT,
    ) -> None:
        database = DATABASES[name]
        self.name = name
        self.title = database.title
        self.base_url = (base_url or database.default_url).rstrip("/")
        self.session = session
        self.policy = policy
        self.limit = limit
        self.attribution = (
            f"Data from {database.title} ({self.base_url}), available under the Open "
            "Database License (ODbL); images under Creative Commons BY-SA."
        )

    def serves(self, gtin: Gtin) -> bool:
        """Goods: every GTIN except periodicals and books (977-979), which it does not hold."""
        return not is_periodical_or_book(gtin)

    def prepare(self) -> None:
        """Nothing to get ready: keyless, and the session is shared."""

    def quota_reset(self, now: datetime) -> datetime:
        return an_hour_later(now)  # no quota, only a rate limit

    def lookup(self, gtin: Gtin, deadline: float) -> ProviderProduct | ProviderNotFound:
        code = gtin.upstream_code
        # A "not found" comes as a JSON 404 from current servers (a 404 that is not its
        # JSON, a wrong base URL or a proxy page, is an error, never a cached "not found").
        request = Request(
            self.title,
            f"{self.base_url}/api/v2/product/{code}",
            params={"fields": FIELDS},
            accept=frozenset({200, 404}),
            pause_on_429=True,
            retry_timeouts=False,
        )
        body = exchange(self.session, request, self.policy, Reply.json, deadline=deadline)
        if not isinstance(body, dict):
            raise UpstreamError(f"{self.title} sent an unexpected body")
        status = str(body.get("status", "")).strip()
        product = body.get("product")
        if status == "1" and isinstance(product, dict):
            return self._product(product, code)
        if status == "0":
            return ProviderNotFound()
        raise UpstreamError(f"{self.title} sent an unknown answer")

    def _product(self, data: dict[str, Any], code: str) -> ProviderProduct:
        brands = text_list(data.get("brands"))
        origins = text_list(data.get("origins"))
        return ProviderProduct(
            name=text(data.get("product_name"))
            or text(data.get("product_name_en"))
            or text(data.get("generic_name")),
            brand=brands[0] if brands else None,
            company=text(data.get("brand_owner")),
            spec=text(data.get("quantity")) or _quantity(data),
            image_url=web_url(data.get("image_front_url")) or web_url(data.get("image_url")),
            country=origins[0] if origins else None,
            details={
                "generic_name": text(data.get("generic_name")),
                "quantity": text(data.get("quantity")),
                "categories": text_list(data.get("categories")),
                "nutriscore_grade": _grade(data.get("nutriscore_grade")),
                "nova_group": _nova(data.get("nova_group")),
                "ingredients_text": text(data.get("ingredients_text")),
                "allergens": [_untag(tag) for tag in text_list(data.get("allergens_tags"))],
                "sold_in": text_list(data.get("countries")),
                "manufacturing_places": text(data.get("manufacturing_places")),
                "language": text(data.get("lang")),
                "url": f"{self.base_url}/product/{code}",
            },
        )


def _quantity(data: dict[str, Any]) -> str | None:
    amount, unit = text(data.get("product_quantity")), text(data.get("product_quantity_unit"))
    return f"{amount} {unit}" if amount and unit else amount


def _grade(value: Any) -> str | None:
    grade = (text(value) or "").lower()
    return grade if grade in ("a", "b", "c", "d", "e") else None


def _nova(value: Any) -> int | None:
    try:
        group = int(str(value).strip())
    except ValueError:
        return None
    return group if 1 <= group <= 4 else None


def _untag(tag: str) -> str:
    """`en:milk` -> `milk` (taxonomy tags carry a language prefix)."""
    return tag.split(":", 1)[1] if ":" in tag else tag
