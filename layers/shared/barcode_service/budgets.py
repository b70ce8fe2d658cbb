"""Daily budgets of provider lookups per caller (API key or signed-in user), per UTC day.

A budget counts provider answers, not requests: a cached or catalog answer is free, a
batch of 100 uncached codes may cost 100 (or more, one per provider that answers). The
count is exact across the fleet with DynamoDB's atomic counters and never exceeds the
limit: before each provider call the router takes one lookup with a conditional update
(`ClientBudget.spend`), and gives it back when the call brought no answer (refused,
failed, never sent). A lookup that does not fit is refused with `ClientBudgetExceeded`
(429, `client_budget_exceeded`, Retry-After = seconds to 00:00 UTC).

Items (cache table, `pk`):
- `BUDGET#<caller key>#<YYYY-MM-DD>`: `used` (number), expires two days after its day.
- `CLIENT#<caller key>`: an operator's override, `daily_lookup_budget` (number; 0 means
  unlimited). Set with `scripts/client_budget.py`; read at most once a minute.
The caller key is a hash (callers.Caller.key): no item names a key id or a user.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from . import dynamo
from .errors import ClientBudgetExceeded, UpstreamUnavailable

DEFAULT_DAILY_BUDGET = 5000
OVERRIDE_MAX_AGE = 60.0  # seconds an operator's override is cached per process
# Seconds this process's last view of a caller's count serves the RateLimit headers of
# answers that spent nothing (cache and catalog hits): the headers are a hint, the
# limit itself is enforced by the conditional update, never from this view.
STATE_MAX_AGE = 10.0
_KEEP_DAYS = 2


def budget_key(client: str, day: str) -> str:
    return f"BUDGET#{client}#{day}"


def override_key(client: str) -> str:
    return f"CLIENT#{client}"


@dataclass(frozen=True)
class BudgetState:
    """A caller's budget of today after an operation: what the RateLimit headers show."""

    limit: int  # 0 = no budget applies
    used: int
    resets_at: int  # epoch seconds of the next 00:00 UTC

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def reset_in(self, now: float) -> int:
        return max(1, self.resets_at - int(now))

    def headers(self, now: float) -> dict[str, str]:
        """`RateLimit` / `RateLimit-Policy` fields (IETF httpapi-ratelimit-headers draft)."""
        if not self.limit:
            return {}
        window = 86_400
        return {
            "RateLimit-Policy": f'"daily-lookups";q={self.limit};w={window}',
            "RateLimit": f'"daily-lookups";r={self.remaining};t={self.reset_in(now)}',
        }


@dataclass(frozen=True)
class Reservation:
    """Provider calls set aside for one lookup; settle it with what was really spent."""

    client: str
    day: str
    amount: int
    state: BudgetState


class Budgets:
    """Reserve-then-settle budgets in the cache table (see module docstring)."""

    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        default_limit: int = DEFAULT_DAILY_BUDGET,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.default_limit = default_limit
        self.clock = clock
        self._overrides: dict[str, tuple[float, int]] = {}
        self._states: dict[str, tuple[float, BudgetState]] = {}
        self._lock = threading.Lock()

    # -- limits --------------------------------------------------------------------

    def limit_for(self, client: str) -> int:
        """Today's limit of `client` (a Caller.key): the operator's override, else the default."""
        cached = self._cached_limit(client)
        if cached is not None:
            return cached
        item = self._call("get_item", Key={"pk": {"S": override_key(client)}}).get("Item")
        return self._remember_limit(client, item)

    def _cached_limit(self, client: str) -> int | None:
        cached = self._overrides.get(client)
        if cached is not None and self.clock() - cached[0] < OVERRIDE_MAX_AGE:
            return cached[1]
        return None

    def _remember_limit(self, client: str, item: dict[str, Any] | None) -> int:
        limit = self.default_limit
        if item and "daily_lookup_budget" in item:
            limit = max(0, int(item["daily_lookup_budget"]["N"]))
        self._overrides[client] = (self.clock(), limit)
        return limit

    def set_override(self, client: str, limit: int, note: str = "") -> None:
        """Give `client` its own daily budget (0 = unlimited); operators only."""
        item: dict[str, Any] = {
            "pk": {"S": override_key(client)},
            "daily_lookup_budget": {"N": str(max(0, limit))},
            "updated_at": {"N": str(int(self.clock()))},
        }
        if note:
            item["note"] = {"S": note}
        self._call("put_item", Item=item)
        self._overrides.pop(client, None)

    # -- counting ------------------------------------------------------------------

    def _today(self) -> tuple[str, int]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        return now.strftime("%Y-%m-%d"), int(midnight.timestamp())

    def state(self, client: str) -> BudgetState:
        """Today's limit and use of `client` (no reservation), in one round trip."""
        day, resets_at = self._today()
        count_key = budget_key(client, day)
        limit = self._cached_limit(client)
        if limit is None:
            # Override and count together: a caller's first answer in this process pays
            # one read, not two.
            keys = [{"pk": {"S": override_key(client)}}, {"pk": {"S": count_key}}]
            answer = self._call(
                "batch_get_item",
                RequestItems={self.table_name: {"Keys": keys, "ConsistentRead": True}},
                table=False,
            )
            items = {i["pk"]["S"]: i for i in answer.get("Responses", {}).get(self.table_name, [])}
            limit = self._remember_limit(client, items.get(override_key(client)))
            if answer.get("UnprocessedKeys"):
                return self.state(client)  # the override is known now: a plain read follows
            count = items.get(count_key)
        else:
            if not limit:
                return BudgetState(0, 0, resets_at)
            count = self._call("get_item", Key={"pk": {"S": count_key}}, ConsistentRead=True).get(
                "Item"
            )
        if not limit:
            return BudgetState(0, 0, resets_at)
        used = int(count["used"]["N"]) if count and "used" in count else 0
        return self._seen(client, BudgetState(limit, used, resets_at))

    def current(self, client: str) -> BudgetState:
        """`state`, from this process's view of the last STATE_MAX_AGE seconds if it has one."""
        now = self.clock()
        with self._lock:
            seen = self._states.get(client)
        _, resets_at = self._today()
        if seen is not None and now - seen[0] < STATE_MAX_AGE and seen[1].resets_at == resets_at:
            return seen[1]
        return self.state(client)

    def for_client(self, client: str) -> ClientBudget:
        """`client`'s budget as one request (or one upload's rows) spends it."""
        return ClientBudget(self, client)

    def _seen(self, client: str, state: BudgetState) -> BudgetState:
        with self._lock:
            self._states[client] = (self.clock(), state)
        return state

    def reserve(self, client: str, amount: int) -> Reservation:
        """Set `amount` provider calls aside, or raise ClientBudgetExceeded if they do not fit."""
        limit = self.limit_for(client)
        day, resets_at = self._today()
        if not limit or amount <= 0:
            return Reservation(client, day, 0, BudgetState(limit, 0, resets_at))
        if amount > limit:
            raise self._exceeded(BudgetState(limit, limit, resets_at))
        try:
            answer = self._call(
                "update_item",
                Key={"pk": {"S": budget_key(client, day)}},
                UpdateExpression="ADD used :n SET expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(used) OR used <= :most",
                ExpressionAttributeValues={
                    ":n": {"N": str(amount)},
                    ":most": {"N": str(limit - amount)},
                    ":exp": {"N": str(resets_at + _KEEP_DAYS * 86_400)},
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError:  # only a failed condition: dynamo.call raised the rest
            state = self._seen(client, BudgetState(limit, limit, resets_at))
            raise self._exceeded(state) from None
        used = int(answer["Attributes"]["used"]["N"])
        state = self._seen(client, BudgetState(limit, used, resets_at))
        return Reservation(client, day, amount, state)

    def settle(self, reservation: Reservation, spent: int) -> BudgetState:
        """Give back what a reservation did not spend; returns the state after."""
        unused = reservation.amount - max(0, min(spent, reservation.amount))
        state = reservation.state
        if reservation.amount == 0 or unused == 0:
            return state
        try:
            answer = self._call(
                "update_item",
                Key={"pk": {"S": budget_key(reservation.client, reservation.day)}},
                UpdateExpression="ADD used :n",
                ExpressionAttributeValues={":n": {"N": str(-unused)}},
                ReturnValues="UPDATED_NEW",
            )
        except UpstreamUnavailable:
            # The caller loses a little budget for today; the answer is not at risk.
            return BudgetState(state.limit, state.used, state.resets_at)
        used = int(answer["Attributes"]["used"]["N"])
        return self._seen(reservation.client, BudgetState(state.limit, used, state.resets_at))

    def _exceeded(self, state: BudgetState) -> ClientBudgetExceeded:
        return ClientBudgetExceeded(
            f"the daily budget of {state.limit} provider lookups is used up; "
            "it resets at 00:00 UTC (cached answers stay free once it does)",
            retry_after=state.reset_in(self.clock()),
        )

    def _call(self, operation: str, *, table: bool = True, **kwargs: Any) -> Any:
        if table:
            kwargs["TableName"] = self.table_name
        return dynamo.call(self.client, operation, "budget table", **kwargs)


class ClientBudget:
    """One caller's budget while a request (or an upload's rows) spends it.

    The router takes one provider call from it before each call and gives it back when
    the call was not made (router.Spender); `headers()` are the RateLimit fields of the
    answer. Safe to share between the threads of one batch.
    """

    def __init__(self, budgets: Budgets, client: str) -> None:
        self.budgets = budgets
        self.client = client

    def spend(self) -> Reservation:
        """One provider call, or ClientBudgetExceeded."""
        return self.budgets.reserve(self.client, 1)

    def refund(self, reservation: Reservation) -> None:
        """A reserved call that was not made after all."""
        self.budgets.settle(reservation, spent=0)

    def state(self) -> BudgetState:
        return self.budgets.current(self.client)

    def headers(self) -> dict[str, str]:
        """`RateLimit` / `RateLimit-Policy` of today's state ({} when no budget applies).

        Best effort: a table that cannot be read leaves the headers out, never the answer.
        """
        try:
            return self.state().headers(self.budgets.clock())
        except UpstreamUnavailable:
            return {}
