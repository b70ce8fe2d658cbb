"""The generate URL cache: where the image of a request digest is (`BARCODE#<sha256>`).

A repeated request costs neither an upstream call nor a render: the request's digest
names an item that remembers the upstream's CDN URL, or the S3 key of a local render
and what that render was checked to be. Failures cost a miss, never an answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from . import dynamo
from .errors import UpstreamUnavailable
from .observability import logger
from .verify import RenderFacts

Backend = Literal["upstream", "local"]


@dataclass(frozen=True)
class CachedUrl:
    backend: Backend
    url: str | None = None  # upstream CDN URL
    key: str | None = None  # S3 key of a local render (its URL is made per response)
    facts: RenderFacts | None = None  # what the local render was checked to be


class UrlCache(Protocol):
    """Remembers where the image of a request digest is."""

    def get(self, digest: str) -> CachedUrl | None:
        """The remembered image of `digest`, or None."""
        ...

    def put(self, digest: str, entry: CachedUrl) -> None:
        """Remember the image of `digest` (best effort)."""
        ...


class DynamoUrlCache:
    """`BARCODE#<sha256>` items in the cache table (a `UrlCache`). Failures cost a miss.

    Through the low-level client, like every store (a boto3 resource costs ~40 ms more
    CPU at a cold start); `client` None disables the cache.
    """

    def __init__(
        self,
        client: Any | None,
        table: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def get(self, digest: str) -> CachedUrl | None:
        if self.client is None:
            return None
        try:
            raw = dynamo.call(
                self.client,
                "get_item",
                "URL cache",
                TableName=self.table,
                Key=dynamo.key(f"BARCODE#{digest}"),
            )
        except UpstreamUnavailable as error:
            logger.warning("barcode URL cache read failed", extra={"error": error.detail})
            return None
        item = dynamo.from_item(raw["Item"]) if raw.get("Item") else None
        # DynamoDB deletes expired items lazily: an item past expires_at is a miss.
        if not item or int(item.get("expires_at", 0)) <= self.clock():
            return None
        backend = item.get("backend")
        if backend == "upstream" and item.get("url"):
            return CachedUrl("upstream", url=str(item["url"]))
        if backend == "local" and item.get("key"):
            facts = RenderFacts.from_metadata(item["facts"]) if item.get("facts") else None
            return CachedUrl("local", key=str(item["key"]), facts=facts)
        return None

    def put(self, digest: str, entry: CachedUrl) -> None:
        if self.client is None or self.ttl_seconds <= 0:
            return
        now = self.clock()
        item: dict[str, Any] = {
            "pk": f"BARCODE#{digest}",
            "backend": entry.backend,
            "created_at": int(now),
            "expires_at": int(now) + self.ttl_seconds,
        }
        if entry.url:
            item["url"] = entry.url
        if entry.key:
            item["key"] = entry.key
        if entry.facts:
            item["facts"] = entry.facts.to_metadata()
        try:
            dynamo.call(
                self.client,
                "put_item",
                "URL cache",
                TableName=self.table,
                Item=dynamo.to_item(item),
            )
        except UpstreamUnavailable as error:
            logger.warning("barcode URL cache write failed", extra={"error": error.detail})
