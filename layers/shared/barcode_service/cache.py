"""DynamoDB access for lookups: cached results, catalog overrides, quota state, leases.

One table (`CACHE_TABLE`, hash key `pk`, TTL attribute `expires_at`); item shapes
are listed in docs/architecture.md. No domain rules here: callers decide what
fresh, stale and blocked mean.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from . import dynamo
from .errors import UpstreamUnavailable

QUOTA_KEY = "QUOTA#lookup"
PRODUCT_FIELDS = ("name", "brand", "company", "price", "spec", "unit", "image_url", "country")


def product_key(gtin14: str) -> str:
    return f"PRODUCT#{gtin14}"


def catalog_key(gtin14: str) -> str:
    return f"CATALOG#{gtin14}"


def lease_key(gtin14: str) -> str:
    return f"LEASE#{gtin14}"


@dataclass(frozen=True)
class CachedLookup:
    """A stored upstream answer: `found` with product fields, or `not_found`."""

    status: str
    fields: dict[str, str | None]
    fetched_at: int
    fresh_until: int

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until


@dataclass(frozen=True)
class QuotaBlock:
    """Upstream calls are not to be made until `until` (epoch s) because of `code`."""

    code: str
    until: int


@dataclass
class Snapshot:
    """Everything a lookup needs to know about one code, read in one round trip."""

    catalog: dict[str, str | None] | None = None
    cached: CachedLookup | None = None
    block: QuotaBlock | None = None
    lease_held: bool = False


def _text_fields(raw: Any) -> dict[str, str | None]:
    if not isinstance(raw, dict):
        return {}
    return {name: (str(raw[name]) if raw.get(name) is not None else None) for name in raw}


class LookupStore(Protocol):
    """What a lookup reads and writes: one snapshot read, answers, blocks, leases."""

    def snapshot(self, gtin14: str, now: float | None = None) -> Snapshot:
        """Catalog entry, cached answer, quota block and lease for one code."""
        ...

    def put_result(
        self,
        gtin14: str,
        status: str,
        fields: dict[str, str | None],
        *,
        fresh_for: int,
        stale_grace: int,
        now: float | None = None,
    ) -> CachedLookup:
        """Store a provider's answer."""
        ...

    def block_upstream(self, code: str, until: int) -> None:
        """Record that no provider call may be made before `until` (epoch s)."""
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

    def snapshot(self, gtin14: str, now: float | None = None) -> Snapshot:
        """Catalog entry, cached answer, quota block and lease for one code, in one call."""
        now = time.time() if now is None else now
        keys = [product_key(gtin14), catalog_key(gtin14), QUOTA_KEY, lease_key(gtin14)]
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
                snapshot.cached = CachedLookup(
                    status=str(item.get("status", "found")),
                    fields=_text_fields(item.get("fields")),
                    fetched_at=int(item.get("fetched_at", 0)),
                    fresh_until=int(item.get("fresh_until", 0)),
                )
            elif pk.startswith("CATALOG#"):
                snapshot.catalog = _text_fields(item.get("fields"))
            elif pk == QUOTA_KEY and int(item.get("until", 0)) > now:
                snapshot.block = QuotaBlock(code=str(item.get("code")), until=int(item["until"]))
            elif pk.startswith("LEASE#") and int(item.get("expires_at", 0)) > now:
                snapshot.lease_held = True
        return snapshot

    def put_result(
        self,
        gtin14: str,
        status: str,
        fields: dict[str, str | None],
        *,
        fresh_for: int,
        stale_grace: int,
        now: float | None = None,
    ) -> CachedLookup:
        """Store an upstream answer; it stays readable (stale) `stale_grace` s past freshness."""
        fetched_at = int(time.time() if now is None else now)
        entry = CachedLookup(status, fields, fetched_at, fetched_at + fresh_for)
        item = {
            "pk": product_key(gtin14),
            "status": status,
            "fields": {k: v for k, v in fields.items() if v is not None},
            "fetched_at": fetched_at,
            "fresh_until": entry.fresh_until,
            "expires_at": entry.fresh_until + stale_grace,
        }
        self._call("put_item", TableName=self.table_name, Item=dynamo.to_item(item))
        return entry

    def put_catalog(self, gtin14: str, fields: dict[str, str | None], note: str = "") -> None:
        """Store an operator's product record; it wins over cache and upstream."""
        item = {
            "pk": catalog_key(gtin14),
            "fields": {k: v for k, v in fields.items() if v},
            "note": note or None,
            "updated_at": int(time.time()),
        }
        self._call("put_item", TableName=self.table_name, Item=dynamo.to_item(item))

    def block_upstream(self, code: str, until: int) -> None:
        """Record that no upstream call may be made before `until` (epoch s)."""
        item = {"pk": QUOTA_KEY, "code": code, "until": until, "expires_at": until}
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
