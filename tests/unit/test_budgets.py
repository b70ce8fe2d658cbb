"""Daily provider-lookup budgets per caller: exact, never over the limit, reset at 00:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from barcode_service.budgets import Budgets, BudgetState, budget_key, override_key
from barcode_service.callers import ANONYMOUS, Caller, caller_of
from barcode_service.errors import ClientBudgetExceeded, UpstreamUnavailable

KEY = Caller("api_key", "a1b2c3d4e5")
USER = Caller("user", "0f9e8d7c-user-sub")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2026, 12, 2, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def budgets(table: str, clock: Clock) -> Budgets:
    return Budgets(table, boto3.client("dynamodb"), default_limit=10, clock=clock)


def test_reservations_never_pass_the_limit(budgets: Budgets) -> None:
    first = budgets.reserve(KEY.key, 3)
    assert first.state == BudgetState(10, 3, int(MIDNIGHT))
    budgets.reserve(KEY.key, 7)
    with pytest.raises(ClientBudgetExceeded) as raised:
        budgets.reserve(KEY.key, 1)
    assert raised.value.status == 429
    assert raised.value.code == "client_budget_exceeded"
    assert raised.value.retry_after == 12 * 3600  # to 00:00 UTC
    assert budgets.state(KEY.key).used == 10


def test_settling_gives_back_what_was_not_spent(budgets: Budgets) -> None:
    reservation = budgets.reserve(KEY.key, 3)
    after = budgets.settle(reservation, spent=1)
    assert after.used == 1
    assert after.remaining == 9
    # A cache answer spends nothing: the whole reservation comes back.
    assert budgets.settle(budgets.reserve(KEY.key, 3), spent=0).used == 1


def test_callers_have_separate_budgets_and_days(budgets: Budgets, clock: Clock) -> None:
    budgets.reserve(KEY.key, 10)
    assert budgets.reserve(USER.key, 10).state.used == 10
    clock.now = MIDNIGHT + 1  # a new UTC day
    assert budgets.state(KEY.key).used == 0
    assert budgets.reserve(KEY.key, 4).state.used == 4


def test_an_operator_override_changes_the_limit(budgets: Budgets, clock: Clock) -> None:
    budgets.set_override(KEY.key, 2, note="trial partner")
    assert budgets.limit_for(KEY.key) == 2
    with pytest.raises(ClientBudgetExceeded):
        budgets.reserve(KEY.key, 3)
    budgets.set_override(KEY.key, 0)  # 0 = unlimited: nothing counted
    reservation = budgets.reserve(KEY.key, 1000)
    assert reservation.amount == 0
    assert budgets.state(KEY.key) == BudgetState(0, 0, int(MIDNIGHT))
    assert budgets.limit_for(USER.key) == 10


def test_overrides_are_read_at_most_once_a_minute(table: str, clock: Clock) -> None:
    client = boto3.client("dynamodb")
    budgets = Budgets(table, client, default_limit=10, clock=clock)
    assert budgets.limit_for(KEY.key) == 10
    client.put_item(
        TableName=table,
        Item={"pk": {"S": override_key(KEY.key)}, "daily_lookup_budget": {"N": "50"}},
    )
    assert budgets.limit_for(KEY.key) == 10  # cached
    clock.now += 61
    assert budgets.limit_for(KEY.key) == 50


def test_items_name_no_key_id_and_expire(budgets: Budgets, table: str) -> None:
    budgets.reserve(KEY.key, 1)
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    (item,) = items
    assert item["pk"]["S"] == budget_key(KEY.key, "2026-12-01")
    assert KEY.id not in str(items)
    assert int(item["expires_at"]["N"]) == int(MIDNIGHT) + 2 * 86_400


def test_headers_follow_the_ietf_draft(clock: Clock) -> None:
    state = BudgetState(limit=5000, used=1200, resets_at=int(MIDNIGHT))
    assert state.headers(clock.now) == {
        "RateLimit-Policy": '"daily-lookups";q=5000;w=86400',
        "RateLimit": '"daily-lookups";r=3800;t=43200',
    }
    assert BudgetState(0, 0, int(MIDNIGHT)).headers(clock.now) == {}


def test_a_missing_table_is_a_503_not_a_free_pass(aws: None, clock: Clock) -> None:
    budgets = Budgets("no-such-table", boto3.client("dynamodb"), clock=clock)
    with pytest.raises(UpstreamUnavailable):
        budgets.reserve(KEY.key, 1)


def _event(identity: dict[str, Any] | None = None, claims: dict[str, Any] | None = None) -> Any:
    context: dict[str, Any] = {"identity": identity or {}}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"requestContext": context}


def test_the_caller_is_the_signed_in_user_else_the_key() -> None:
    assert caller_of(_event({"apiKeyId": "k1"})) == Caller("api_key", "k1")
    user = caller_of(_event({"apiKeyId": "k1"}, {"sub": "u-1"}))
    assert user == Caller("user", "u-1")
    assert caller_of(_event()) == ANONYMOUS
    assert caller_of({}) == ANONYMOUS
    assert not ANONYMOUS.known
    assert Caller("api_key", "x").key != Caller("user", "x").key
    assert len(KEY.key) == 32


def test_the_operator_script_sets_shows_and_clears(budgets: Budgets, table: str) -> None:
    import argparse

    from scripts.client_budget import run

    def args(**changes: Any) -> argparse.Namespace:
        base = {"table": table, "api_key_id": KEY.id, "user_sub": None, "set": None}
        return argparse.Namespace(
            **(base | {"clear": False, "note": None, "default": 10} | changes)
        )

    client = boto3.client("dynamodb")
    assert run(args(set=25, note="partner"), client) == (
        "api_key: limit 25, used today 0, remaining 25"
    )
    assert budgets.limit_for(KEY.key) == 25
    assert "limit 10," in run(args(clear=True), client)
    assert "unlimited" in run(args(set=0), client)
