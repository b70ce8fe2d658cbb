"""DynamoDB access for lookups: cached answers, catalog overrides, misses, leases, health.

One table (`CACHE_TABLE`, hash key `pk`, TTL attribute `expires_at`); item shapes
are listed in docs/architecture.md. No domain rules here: callers decide what
fresh, stale and blocked mean. A lookup reads everything it needs about one code in
one `snapshot` (BatchGetItem), the providers' health items included
(provider_health.py writes those).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import boto3
from botocore.exceptions import ClientError

from . import dynamo
from .community.model import CodeRecord, community_key
from .errors import UpstreamUnavailable
from .product import ProductFields
from .provider_health import ProviderHealth, health_key
from .providers import COMMUNITY

LEGACY_PROVIDER = "baichuan"  # cached answers from before the router came from it


def product_key(gtin14: str) -> str:
    return f"PRODUCT#{gtin14}"


def catalog_key(gtin14: str) -> str:
    return f"CATALOG#{gtin14}"


def lease_key(gtin14: str) -> str:
    return f"LEASE#{gtin14}"


def miss_key(provider: str, gtin14: str) -> str:
    """One provider's own "not found" for a code (its negative cache)."""
    return f"MISS#{provider}#{gtin14}"


@dataclass(frozen=True)
class CachedLookup:
    """A stored provider answer: `found` with product fields, or `not_found`."""

    status: Literal["found", "not_found"]
    fields: ProductFields
    fetched_at: int
    fresh_until: int
    provider: str | None = None
    attribution: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until


@dataclass
class Snapshot:
    """Everything a lookup needs to know about one code, read in one round trip."""

    catalog: ProductFields | None = None
    cached: CachedLookup | None = None
    health: dict[str, ProviderHealth] = field(default_factory=dict)  # provider -> its item
    misses: set[str] = field(default_factory=set)  # providers with a fresh "not found"
    lease_held: bool = False
    community: CodeRecord | None = None  # the code's community record, when `community` is used


def _cached(item: dict[str, Any]) -> CachedLookup:
    status: Literal["found", "not_found"] = (
        "not_found" if item.get("status") == "not_found" else "found"
    )
    try:
        details = json.loads(item["details"]) if item.get("details") else {}
    except (TypeError, ValueError):
        details = {}
    provider = item.get("provider")
    return CachedLookup(
        status=status,
        fields=ProductFields.from_mapping(item.get("fields")),
        fetched_at=int(item.get("fetched_at", 0)),
        fresh_until=int(item.get("fresh_until", 0)),
        provider=str(provider) if provider else (LEGACY_PROVIDER if status == "found" else None),
        attribution=str(item["attribution"]) if item.get("attribution") else None,
        details=details if isinstance(details, dict) else {},
    )


class LookupStore(Protocol):
    """What a lookup reads and writes: one snapshot read, answers, blocks, leases."""

    def snapshot(
        self, gtin14: str, now: float | None = None, providers: Sequence[str] = ()
    ) -> Snapshot:
        """Catalog entry, cached answer, lease, and each provider's block and own miss."""
        ...

    def put_result(self, gtin14: str, entry: CachedLookup, *, stale_grace: int) -> None:
        """Store a provider's answer."""
        ...

    def put_miss(self, gtin14: str, provider: str, fresh_until: int) -> None:
        """Remember that `provider` does not know the code, until `fresh_until` (epoch s)."""
        ...

    def acquire_lease(
        self, gtin14: str, owner: str, seconds: float, now: float | None = None
    ) -> bool:
        """Take the single-flight lease for a code; False if another caller holds it."""
        ...

    def release_lease(self, gtin14: str, owner: str) -> None:
        """Drop our lease (only if we still own it)."""
        ...


class DynamoLookupStore:
    """Reads and writes the lookup items of the cache table (a `LookupStore`)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self.client = client or boto3.client("dynamodb")

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return dynamo.call(self.client, operation, "cache table", **kwargs)

    def snapshot(
        self,
        gtin14: str,
        now: float | None = None,
        providers: Sequence[str] = (LEGACY_PROVIDER,),
    ) -> Snapshot:
        """Catalog entry, cached answer, lease, each provider's block and own "not found",
        and (with the community provider in use) the code's community record, in one call."""
        now = time.time() if now is None else now
        keys = [product_key(gtin14), catalog_key(gtin14), lease_key(gtin14)]
        keys += [health_key(p) for p in providers] + [miss_key(p, gtin14) for p in providers]
        if COMMUNITY in providers:
            keys.append(community_key(gtin14))
        request = {self.table_name: {"Keys": [dynamo.key(k) for k in keys]}}
        items: list[dict[str, Any]] = []
        for _ in range(3):
            response = self._call("batch_get_item", RequestItems=request)
            items.extend(response.get("Responses", {}).get(self.table_name, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        snapshot = Snapshot()
        for raw in items:
            item = dynamo.from_item(raw)
            pk = item["pk"]
            if pk.startswith("PRODUCT#"):
                snapshot.cached = _cached(item)
            elif pk.startswith("CATALOG#"):
                snapshot.catalog = ProductFields.from_mapping(item.get("fields"))
            elif pk.startswith("HEALTH#"):
                health = ProviderHealth.from_item(item)
                snapshot.health[health.provider] = health
            elif pk.startswith("MISS#") and int(item.get("fresh_until", 0)) > now:
                snapshot.misses.add(pk.split("#")[1])
            elif pk.startswith("LEASE#") and int(item.get("expires_at", 0)) > now:
                snapshot.lease_held = True
            elif pk.startswith("COMMUNITY#"):
                snapshot.community = CodeRecord.from_item(raw)
        return snapshot

    def put_result(self, gtin14: str, entry: CachedLookup, *, stale_grace: int) -> None:
        """Store a provider's answer; it stays readable (stale) `stale_grace` s past freshness."""
        item = _result_item(gtin14, entry, stale_grace)
        self._call("put_item", TableName=self.table_name, Item=item)

    def put_result_unless_found(
        self, gtin14: str, entry: CachedLookup, *, stale_grace: int
    ) -> bool:
        """`put_result`, unless another provider's "found" is cached for the code (that
        answer stays); False when it was not stored."""
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=_result_item(gtin14, entry, stale_grace),
                ConditionExpression="attribute_not_exists(pk) OR #s <> :found OR #p = :provider",
                ExpressionAttributeNames={"#s": "status", "#p": "provider"},
                ExpressionAttributeValues={
                    ":found": {"S": "found"},
                    ":provider": {"S": str(entry.provider)},
                },
            )
        except ClientError:
            return False
        return True

    def forget_result(self, gtin14: str, provider: str) -> None:
        """Drop the cached answer for a code if `provider` gave it (its data was withdrawn)."""
        with contextlib.suppress(ClientError):
            self._call(
                "delete_item",
                TableName=self.table_name,
                Key=dynamo.key(product_key(gtin14)),
                ConditionExpression="#p = :provider",
                ExpressionAttributeNames={"#p": "provider"},
                ExpressionAttributeValues={":provider": {"S": provider}},
            )

    def put_catalog(self, gtin14: str, fields: ProductFields, note: str = "") -> None:
        """Store an operator's product record; it wins over cache and upstream."""
        item = {
            "pk": catalog_key(gtin14),
            "fields": fields.known(),
            "note": note or None,
            "updated_at": int(time.time()),
        }
        self._call("put_item", TableName=self.table_name, Item=dynamo.to_item(item))

    def put_miss(self, gtin14: str, provider: str, fresh_until: int) -> None:
        """Remember that `provider` does not know the code, until `fresh_until` (epoch s)."""
        item = {
            "pk": miss_key(provider, gtin14),
            "fresh_until": fresh_until,
            "expires_at": fresh_until,
        }
        self._call("put_item", TableName=self.table_name, Item=dynamo.to_item(item))

    def acquire_lease(
        self, gtin14: str, owner: str, seconds: float, now: float | None = None
    ) -> bool:
        """Take the single-flight lease for a code; False if another caller holds it."""
        now = time.time() if now is None else now
        item = {"pk": lease_key(gtin14), "owner": owner, "expires_at": int(now + seconds) + 1}
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=dynamo.to_item(item),
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except ClientError:
            return False
        return True

    def release_lease(self, gtin14: str, owner: str) -> None:
        """Drop our lease so waiters stop waiting (only if we still own it)."""
        # Expired and taken over, or the table is down: the TTL cleans it up either way.
        with contextlib.suppress(ClientError, UpstreamUnavailable):
            self._call(
                "delete_item",
                TableName=self.table_name,
                Key=dynamo.key(lease_key(gtin14)),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )


def _result_item(gtin14: str, entry: CachedLookup, stale_grace: int) -> dict[str, Any]:
    """The `PRODUCT#` item of a provider's answer (typed form)."""
    item = {
        "pk": product_key(gtin14),
        "status": entry.status,
        "fields": entry.fields.known(),
        "fetched_at": entry.fetched_at,
        "fresh_until": entry.fresh_until,
        "expires_at": entry.fresh_until + stale_grace,
        "provider": entry.provider,
        "attribution": entry.attribution,
        # JSON text: details hold numbers and lists that DynamoDB would turn into Decimals.
        "details": json.dumps(entry.details, ensure_ascii=False) if entry.details else None,
    }
    return dynamo.to_item(item)
