"""Fleet-wide rate limiter for product providers, in the cache table.

Every function instance and upload worker reserves its call slot in one item per
provider (`RATE#<provider>`, attribute `next_at` = the first free slot, epoch ms)
with one conditional UpdateItem:
- idle provider (`next_at` in the past): take the slot now, `next_at = now + interval`;
- busy provider: take the next free slot, `next_at = next_at + interval`, but only if
  that slot starts within the caller's wait, then sleep until it.
Calls therefore start at least `interval` apart across the fleet. For a window limit
(`RateLimit.burst` 1) slots are 5% wider and a caller that wakes too late for its slot
moves it or queues again, so any window of the limit's length holds at most its number
of calls: a strict spacing, no burst at window edges. For a token bucket (burst > 1)
slots are exactly the rate's interval and a caller may leave up to half the bucket's
depth late (the other half covers the network): the calls stay within the bucket.
A caller that would wait longer than allowed gets a defined `UpstreamRateLimited` with
`Retry-After`, and the provider is not called. Items expire through the table's TTL an
hour after their last slot.

A provider with a daily allowance (`RateLimit.per_day`, e.g. UPCitemdb's trial) also
has one counter item per UTC day (`DAY#<provider>#<yyyy-mm-dd>`): after its slot, each
call adds one with a conditional UpdateItem that fails once the day's count is reached,
so the whole fleet (API and upload workers together) never makes more calls in a UTC
day than the allowance; the caller then gets `UpstreamQuotaExhausted` and the provider
is not called. Counter items expire two days after their day.

The same slots share out limits that are ours rather than a provider's (the upload
workers' share, uploads.pacing.FleetShare): those are not strict, a late caller keeps
its slot, since a call a little closer to the next breaks no provider's limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from . import dynamo
from .errors import UpstreamQuotaExhausted, UpstreamRateLimited
from .providers.base import RateLimit, next_utc_midnight

_ATTEMPTS = 4
SPACING_MARGIN = 1.05
"""Slots are 5% wider than the limit, so that calls that leave late (a busy CPU, a
slow connect) cannot bunch up into more than the limit in any window."""
LATE_FRACTION = 0.04
"""A caller that wakes later than this fraction of a window limit's window after its
slot may not use it as it is (a late call could bunch with on-time ones): it moves the
slot to now when no one queued behind it, and queues again otherwise."""
_EXPIRE_AFTER_SECONDS = 3600
BUSY_MEMORY_MS = 1000
"""A provider this instance saw busy (a `next_at` in the future) until less than this
long ago is taken to be busy still: its queue is tried first. Under steady load (an upload
list) other instances keep moving `next_at`, so what this one last saw is soon in the past
although the provider is still busy; trying the idle path first would cost two writes."""


def rate_key(provider: str) -> str:
    return f"RATE#{provider}"


def day_key(provider: str, day: str) -> str:
    """The counter item of `provider`'s calls on UTC `day` (yyyy-mm-dd)."""
    return f"DAY#{provider}#{day}"


def spacing(limit: RateLimit, *, strict: bool = True) -> tuple[int, float]:
    """(ms between two slots, ms a caller may wake after its slot and still use it)."""
    exact = limit.interval * 1000
    if not strict:
        return max(1, math.ceil(exact)), math.inf
    if limit.burst > 1:
        return max(1, math.ceil(exact)), (limit.burst - 1) * exact / 2
    return max(1, math.ceil(exact * SPACING_MARGIN)), LATE_FRACTION * limit.per_seconds * 1000


class FleetLimiter:
    """Reserves call slots of each provider's limit, shared by the whole fleet."""

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self.client = client or boto3.client("dynamodb")
        self._clock = clock
        self._sleep = sleep
        self._busy_until: dict[str, int] = {}  # last `next_at` seen: try the queue path first

    def acquire(
        self, provider: str, limit: RateLimit, max_wait: float, *, strict: bool = True
    ) -> float:
        """Wait for our slot of `provider`'s limit; returns the seconds waited.

        Raises UpstreamRateLimited (with retry_after) when the next free slot is more
        than `max_wait` seconds away, UpstreamQuotaExhausted when the limit's daily
        allowance is used up (the slot is then left unused), UpstreamUnavailable when the
        table is down. `strict=False`: a caller that wakes late for its slot still takes it.
        """
        waited = self._slot(provider, limit, max_wait, strict)
        if limit.per_day:
            self._count_day(provider, limit.per_day)
        return waited

    def _count_day(self, provider: str, allowance: int) -> None:
        """Count one call in today's (UTC) allowance; UpstreamQuotaExhausted when it is used."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        reset = next_utc_midnight(now)
        try:
            dynamo.call(
                self.client,
                "update_item",
                "rate limiter's table",
                TableName=self.table_name,
                Key=dynamo.key(day_key(provider, now.date().isoformat())),
                UpdateExpression="ADD calls :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(calls) OR calls < :allowance",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":allowance": {"N": str(allowance)},
                    ":expires": {"N": str(int(reset.timestamp()) + 2 * 86_400)},
                },
            )
        except ClientError:  # only a failed condition: dynamo.call raised the rest
            raise UpstreamQuotaExhausted(
                f"the fleet's daily allowance of {allowance} calls to provider {provider} "
                "is used up",
                reset_at=reset,
                now=now,
            ) from None

    def _slot(self, provider: str, limit: RateLimit, max_wait: float, strict: bool) -> float:
        """Wait for a slot of `limit` (see `acquire`); the seconds waited."""
        interval, tolerance = spacing(limit, strict=strict)
        started = self._clock()
        latest = int((started + max_wait) * 1000)  # the whole wait, late wake-ups included
        races = 0
        busy = self._busy_until.get(provider, 0) + BUSY_MEMORY_MS > int(started * 1000)
        while races < _ATTEMPTS:
            now = int(self._clock() * 1000)
            if busy:
                seen = self._busy_until.get(provider, 0)
            else:
                busy_at = self._take_idle(provider, now, interval)  # None: the slot is ours
                if busy_at is None:
                    return max(0.0, now / 1000 - started)
                seen = busy_at
            if seen > latest:
                self._busy_until[provider] = seen
                raise self._busy(provider, seen - now)
            slot, seen = self._take_queued(provider, now, latest, interval)
            if slot is None:
                races += 1  # another caller moved `next_at` between our read and write
                self._busy_until[provider] = seen
                if seen > latest:
                    raise self._busy(provider, seen - now)
                busy = seen > now  # idle after all: take the slot now on the next try
                continue
            busy = True
            if slot > now:
                self._sleep((slot - now) / 1000)
            if self._clock() * 1000 - slot <= tolerance:
                return max(0.0, slot / 1000 - started)
            # Woke too late for this slot (a busy CPU): using it could bunch calls. If no
            # one queued behind it, the slot moves to now; otherwise queue again.
            now = int(self._clock() * 1000)
            if self._move_late(provider, slot + interval, now, interval) is None:
                return max(0.0, now / 1000 - started)
        raise self._busy(provider, interval)

    def _move_late(self, provider: str, ours: int, now: int, interval: int) -> int | None:
        """Move our late slot to `now` if `next_at` is still the one we set (`ours`):
        None, else the current `next_at`."""
        return self._update(
            provider,
            "SET next_at = :next, expires_at = :expires",
            "next_at = :ours",
            {":ours": ours, ":next": now + interval, ":expires": self._expiry(now + interval)},
        )[1]

    def _take_idle(self, provider: str, now: int, interval: int) -> int | None:
        """Take the slot `now` if the provider is idle: None, else the current `next_at`."""
        return self._update(
            provider,
            "SET next_at = :next, expires_at = :expires",
            "attribute_not_exists(next_at) OR next_at <= :now",
            {":now": now, ":next": now + interval, ":expires": self._expiry(now + interval)},
        )[1]

    def _take_queued(
        self, provider: str, now: int, latest: int, interval: int
    ) -> tuple[int | None, int]:
        """Reserve the next free slot if it starts by `latest`: (slot or None, next_at seen)."""
        new, seen = self._update(
            provider,
            "SET next_at = next_at + :interval, expires_at = :expires",
            "next_at > :now AND next_at <= :latest",
            {
                ":now": now,
                ":latest": latest,
                ":interval": interval,
                ":expires": self._expiry(latest + interval),
            },
        )
        if new is None:
            return None, seen if seen is not None else now
        self._busy_until[provider] = new
        return new - interval, new

    def _update(
        self, provider: str, update: str, condition: str, values: dict[str, int]
    ) -> tuple[int | None, int | None]:
        """One conditional UpdateItem: (new next_at, None) or (None, next_at that failed it)."""
        try:
            response = dynamo.call(
                self.client,
                "update_item",
                "rate limiter's table",
                TableName=self.table_name,
                Key=dynamo.key(rate_key(provider)),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues={k: {"N": str(v)} for k, v in values.items()},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:  # only a failed condition: dynamo.call raised the rest
            old = exc.response.get("Item") or self._read(provider)
            return None, int(old.get("next_at", {}).get("N", 0))
        return int(response["Attributes"]["next_at"]["N"]), None

    def _read(self, provider: str) -> dict[str, Any]:
        """The limiter item, for a client that does not return it with a failed condition."""
        response = self.client.get_item(
            TableName=self.table_name, Key=dynamo.key(rate_key(provider)), ConsistentRead=True
        )
        item: dict[str, Any] = response.get("Item") or {}
        return item

    @staticmethod
    def _expiry(next_at: int) -> int:
        return next_at // 1000 + _EXPIRE_AFTER_SECONDS

    @staticmethod
    def _busy(provider: str, wait_ms: int) -> UpstreamRateLimited:
        return UpstreamRateLimited(
            f"the fleet-wide request limit of provider {provider} is reached; retry shortly",
            retry_after=max(1, math.ceil(wait_ms / 1000)),
        )
