"""The Open Food Facts family in one call: food, beauty, pet food and other products.

`GET <base>/api/v2/product/<barcode>?product_type=all&fields=...` asked at Open Food
Facts answers from whichever of the four databases (Open Food Facts, Open Beauty
Facts, Open Pet Food Facts, Open Products Facts) holds the product, redirecting to the
sister instance when it is another one. The redirect is followed only to the family's
configured base URLs (OPENFOODFACTS_API_URL and the sisters' *_API_URL); anywhere else
it is an error. `status: 1` with a `product` is found; `status: 0` is not found in any
of the four, answered with HTTP 404 by current servers and 200 by older ones (both
accepted). Only the fields we use are asked for (full records are tens of KB).

One provider, `openfoodfacts`, with one fleet-wide limit (the family's 100 product
reads a minute): the sister names in LOOKUP_PROVIDERS are aliases of this one call. A
redirected call is two requests, one to each server; the limit counts calls, so each
server sees at most the limit.

Which database answered comes from the product's `product_type` (`food`, `beauty`,
`petfood`, `product`), else from the instance that answered. The data is ODbL and the
images CC BY-SA: every answer's attribution names its database and those licences.

`details` of an answer (any may be null or empty): `database` (`openfoodfacts`,
`openbeautyfacts`, `openpetfoodfacts` or `openproductsfacts`), `generic_name`,
`quantity`, `categories` (list), `nutriscore_grade` (a-e), `nova_group` (1-4),
`ingredients_text`, `allergens` (list, e.g. "milk"), `sold_in` (countries where it is
sold, list), `manufacturing_places`, `language`, `url` (the product's page at its
database). Beauty, pet food and other products have no Nutri-Score or NOVA group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from ..errors import UpstreamError
from ..gtin import Gtin
from ..transport import Request, RetryPolicy, exchange, under_base
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

NAME = "openfoodfacts"
FIELDS = (
    "code,status,product_type,product_name,product_name_en,generic_name,brands,brand_owner,"
    "quantity,product_quantity,product_quantity_unit,image_front_url,image_url,categories,"
    "countries,origins,manufacturing_places,nutriscore_grade,nova_group,ingredients_text,"
    "allergens_tags,lang"
)

DOCUMENTED_LIMIT = RateLimit(requests=100, per_seconds=60)
"""The family: 100 product reads per minute per client (IP); more may get the IP banned."""


@dataclass(frozen=True)
class FactsDatabase:
    """One database of the family: its title, its default base URL, its `product_type`."""

    title: str
    default_url: str
    product_type: str


DATABASES = {
    "openfoodfacts": FactsDatabase("Open Food Facts", "https://world.openfoodfacts.org", "food"),
    "openbeautyfacts": FactsDatabase(
        "Open Beauty Facts", "https://world.openbeautyfacts.org", "beauty"
    ),
    "openpetfoodfacts": FactsDatabase(
        "Open Pet Food Facts", "https://world.openpetfoodfacts.org", "petfood"
    ),
    "openproductsfacts": FactsDatabase(
        "Open Products Facts", "https://world.openproductsfacts.org", "product"
    ),
}
BY_PRODUCT_TYPE = {database.product_type: name for name, database in DATABASES.items()}


def attribution(title: str, base_url: str) -> str:
    """The attribution of an answer from the database `title` at `base_url`."""
    return (
        f"Data from {title} ({base_url}), available under the Open Database License "
        "(ODbL); images under Creative Commons BY-SA."
    )


class OpenFactsProvider:
    """The Open Food Facts family of databases, asked in one call."""

    name = NAME
    title = "Open Food Facts"

    def __init__(
        self,
        session: requests.Session,
        bases: Mapping[str, str] | None = None,
        *,
        policy: RetryPolicy,
        limit: RateLimit = DOCUMENTED_LIMIT,
    ) -> None:
        given = bases or {}
        # Each database's base URL (its *_API_URL), the default where none is given.
        self.bases = {
            name: (given.get(name) or database.default_url).rstrip("/")
            for name, database in DATABASES.items()
        }
        self.base_url = self.bases[NAME]
        self.session = session
        self.policy = policy
        self.limit = limit
        self.attribution = attribution(self.title, self.base_url)

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
            params={"product_type": "all", "fields": FIELDS},
            accept=frozenset({200, 404}),
            pause_on_429=True,
            retry_timeouts=False,
            redirects=tuple(self.bases.values()),
        )
        body, answered_at = exchange(
            self.session, request, self.policy, lambda r: (r.json(), r.url), deadline=deadline
        )
        if not isinstance(body, dict):
            raise UpstreamError(f"{self.title} sent an unexpected body")
        status = str(body.get("status", "")).strip()
        product = body.get("product")
        if status == "1" and isinstance(product, dict):
            return self._product(product, code, self._database(product, answered_at))
        if status == "0":
            return ProviderNotFound()
        raise UpstreamError(f"{self.title} sent an unknown answer")

    def _database(self, product: dict[str, Any], answered_at: str) -> str:
        """Which database holds `product`: its `product_type`, else the instance that
        answered (the longest configured base URL it is under), else Open Food Facts."""
        named = BY_PRODUCT_TYPE.get((text(product.get("product_type")) or "").lower())
        if named is not None:
            return named
        under = [name for name, base in self.bases.items() if under_base(answered_at, base)]
        return max(under, key=lambda name: len(self.bases[name]), default=NAME)

    def _product(self, data: dict[str, Any], code: str, database: str) -> ProviderProduct:
        brands = text_list(data.get("brands"))
        origins = text_list(data.get("origins"))
        base = self.bases[database]
        return ProviderProduct(
            name=text(data.get("product_name"))
            or text(data.get("product_name_en"))
            or text(data.get("generic_name")),
            brand=brands[0] if brands else None,
            company=text(data.get("brand_owner")),
            spec=text(data.get("quantity")) or _quantity(data),
            image_url=web_url(data.get("image_front_url")) or web_url(data.get("image_url")),
            country=origins[0] if origins else None,
            attribution=attribution(DATABASES[database].title, base),
            details={
                "database": database,
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
                "url": f"{base}/product/{code}",
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
