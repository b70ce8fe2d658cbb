"""A product as the API shows it: its common fields, where it came from, its 404.

`ProductFields` is the one typed record of the common product fields, whether a
provider answered them, the cache kept them or an operator's catalog set them.
Each answer stays one provider's (or the catalog's) record: fields are never merged
across sources (Open Food Facts' licence asks for that, and it keeps answers honest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from .errors import NotFound
from .gtin import Gtin

Source = Literal["upstream", "cache", "catalog"]
CATALOG_MAX_AGE = 300
"""How long a client may keep a catalog answer: an operator's edit shows within it."""


@dataclass(frozen=True)
class ProductFields:
    """The common product fields; a field nobody knows is None, never invented."""

    name: str | None = None
    brand: str | None = None
    company: str | None = None
    price: str | None = None
    spec: str | None = None
    unit: str | None = None
    image_url: str | None = None
    country: str | None = None

    @classmethod
    def from_mapping(cls, raw: Any) -> ProductFields:
        """The fields of a stored or parsed mapping: text values only, other names ignored."""
        if not isinstance(raw, Mapping):
            return cls()
        values = {
            name: str(raw[name]) if raw.get(name) is not None else None for name in PRODUCT_FIELDS
        }
        return cls(**values)

    def to_dict(self) -> dict[str, str | None]:
        """Every field by name, None included (as an answer shows them)."""
        return {name: getattr(self, name) for name in PRODUCT_FIELDS}

    def known(self) -> dict[str, str]:
        """Only the fields that have a value (as an item stores them)."""
        return {name: value for name, value in self.to_dict().items() if value is not None}


PRODUCT_FIELDS = tuple(spec.name for spec in fields(ProductFields))


@dataclass(frozen=True)
class Product:
    """A found product as the API shows it."""

    gtin: Gtin
    fields: ProductFields
    source: Source
    fetched_at: int
    stale: bool = False
    provider: str | None = None  # None for catalog items
    attribution: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    fresh_until: int | None = None  # epoch s; None: a catalog item (CATALOG_MAX_AGE)

    def max_age(self, now: float) -> int:
        """Seconds a client may keep this answer: what is left of the cache's freshness
        (0 for a stale answer; CATALOG_MAX_AGE for an operator's catalog item)."""
        if self.stale:
            return 0
        if self.fresh_until is None:
            return CATALOG_MAX_AGE
        return max(0, int(self.fresh_until - now))

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"gtin": self.gtin.gtin14, "code": self.gtin.code}
        body["format"] = self.gtin.format
        body.update(self.fields.to_dict())
        body["gs1_prefix"] = prefix_facts(self.gtin)
        body["source"] = self.source
        body["provider"] = self.provider
        body["attribution"] = self.attribution
        body["details"] = dict(self.details)
        body["fetched_at"] = datetime.fromtimestamp(self.fetched_at, UTC).isoformat()
        if self.stale:
            body["stale"] = True
        return body


def prefix_facts(gtin: Gtin) -> dict[str, str] | None:
    """`gs1_prefix` of an answer: the prefix and the GS1 organisation that issued it."""
    if gtin.gs1_prefix is None:
        return None
    return {"prefix": gtin.gs1_prefix.prefix, "issuer": gtin.gs1_prefix.issuer}


def product_not_found(gtin: Gtin, detail: str, country: str | None, source: Source) -> NotFound:
    """The 404 problem for a code nobody knows, with its GS1 prefix facts."""
    extra: dict[str, Any] = {
        "gtin": gtin.gtin14,
        "gs1_prefix": prefix_facts(gtin),
        "country": country,
        "source": source,
    }
    if gtin.measure is not None:
        extra["variable_measure"] = gtin.measure.to_dict()
    return NotFound(detail, extra=extra)
