"""Where community records live: `COMMUNITY#<gtin14>` items of the cache table.

Every change is read -> change -> conditional put on the version read, retried when
another writer got there first (`CommunityStore.change`): contributions to one code are
rare enough that a conflict is an exception, and each change sees all the others.
Operators list the records by state through the sparse index `CommunityByState`
(partition `community_state`, sort `community_updated`), which only these items carry.

A caller's contributions of the day are counted in `CONTRIBUTIONS#<caller key>#<YYYY-MM-DD>`
items (`DailyLimit`), exact across the fleet with a conditional atomic counter.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import ClientError

from .. import dynamo
from ..errors import ContributionLimitExceeded, UpstreamUnavailable
from .model import CodeRecord, CodeState, community_key

INDEX = "CommunityByState"
ATTEMPTS = 5
"""Writes one change tries before it gives up (each after re-reading the record)."""
_KEEP_DAYS = 2


def limit_key(caller: str, day: str) -> str:
    return f"CONTRIBUTIONS#{caller}#{day}"


class CommunityStore(Protocol):
    """The community records, as the service, the provider and the operators use them."""

    def get(self, gtin14: str, *, consistent: bool = False) -> CodeRecord | None:
        """The record of a code, or None when nobody contributed to it."""
        ...

    def change(
        self, gtin14: str, change: Callable[[CodeRecord], CodeRecord | None]
    ) -> CodeRecord | None:
        """Apply `change` to the current record (an empty one when there is none) and
        store what it returns; None from `change`: nothing to store (returns None)."""
        ...


class DynamoCommunityStore:
    """Reads and conditionally writes `COMMUNITY#` items (a `CommunityStore`)."""

    def __init__(self, table_name: str, client: Any, clock: Callable[[], float] = time.time):
        self.table_name = table_name
        self.client = client
        self.clock = clock

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return dynamo.call(
            self.client, operation, "community table", TableName=self.table_name, **kwargs
        )

    def get(self, gtin14: str, *, consistent: bool = False) -> CodeRecord | None:
        answer = self._call(
            "get_item", Key=dynamo.key(community_key(gtin14)), ConsistentRead=consistent
        )
        item = answer.get("Item")
        return CodeRecord.from_item(item) if item else None

    def change(
        self, gtin14: str, change: Callable[[CodeRecord], CodeRecord | None]
    ) -> CodeRecord | None:
        for _ in range(ATTEMPTS):
            current = self.get(gtin14, consistent=True) or CodeRecord(gtin14)
            changed = change(current)
            if changed is None:
                return None
            if self._put(changed):
                return CodeRecord.from_item(changed.to_item(int(self.clock())))
        raise UpstreamUnavailable(
            "the community record of this code is being changed by others; retry shortly",
            retry_after=1,
        )

    def _put(self, record: CodeRecord) -> bool:
        """Store `record` if the item is still at the version it was read at."""
        if record.version:
            condition = {
                "ConditionExpression": "version = :read",
                "ExpressionAttributeValues": {":read": {"N": str(record.version)}},
            }
        else:
            condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        try:
            self._call("put_item", Item=record.to_item(int(self.clock())), **condition)
        except ClientError:  # only a failed condition: dynamo.call raised the rest
            return False
        return True

    def records(self, state: CodeState) -> Iterator[CodeRecord]:
        """Every record in `state`, most recently changed first (operators only)."""
        request: dict[str, Any] = {
            "IndexName": INDEX,
            "KeyConditionExpression": "community_state = :state",
            "ExpressionAttributeValues": {":state": {"S": state}},
            "ScanIndexForward": False,
        }
        while True:
            answer = self._call("query", **request)
            for item in answer.get("Items", []):
                yield CodeRecord.from_item(item)
            if not answer.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


class DailyLimit:
    """COMMUNITY_DAILY_LIMIT: contributions one caller may make per UTC day (0: no limit)."""

    def __init__(
        self, table_name: str, client: Any, limit: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.limit = limit
        self.clock = clock

    def _today(self) -> tuple[str, int]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        return now.strftime("%Y-%m-%d"), int(midnight.timestamp())

    def take(self, caller: str) -> str:
        """Count one contribution of `caller` today (the day, to give it back), or raise
        ContributionLimitExceeded with Retry-After to 00:00 UTC."""
        day, resets_at = self._today()
        if not self.limit:
            return day
        try:
            self._count(
                caller,
                day,
                "ADD used :n SET expires_at = if_not_exists(expires_at, :exp)",
                1,
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                limit={"N": str(self.limit)},
                exp={"N": str(resets_at + _KEEP_DAYS * 86_400)},
            )
        except ClientError:
            raise ContributionLimitExceeded(
                f"at most {self.limit} contributions a day are taken from one API key or "
                "user; more are taken after 00:00 UTC",
                retry_after=max(1, resets_at - int(self.clock())),
            ) from None
        return day

    def give_back(self, caller: str, day: str) -> None:
        """A contribution counted with `take` that was not stored after all."""
        if not self.limit:
            return
        # A table that cannot be written: the caller loses one contribution of today.
        with contextlib.suppress(UpstreamUnavailable):
            self._count(caller, day, "ADD used :n", -1)

    def _count(self, caller: str, day: str, expression: str, n: int, **extra: Any) -> None:
        """One UpdateItem of `caller`'s count of `day` (`:n` is `n`; `extra`: a condition
        and more values, named without their colon)."""
        condition = {k: v for k, v in extra.items() if k == "ConditionExpression"}
        values = {f":{k}": v for k, v in extra.items() if k != "ConditionExpression"}
        dynamo.call(
            self.client,
            "update_item",
            "community table",
            TableName=self.table_name,
            Key=dynamo.key(limit_key(caller, day)),
            UpdateExpression=expression,
            ExpressionAttributeValues={":n": {"N": str(n)}, **values},
            **condition,
        )
