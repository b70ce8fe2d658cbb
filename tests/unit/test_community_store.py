"""Community records in the table: conditional changes, the operators' index, the daily limit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from barcode_service.community.model import CodeRecord, Contribution, Description
from barcode_service.community.store import ATTEMPTS, DailyLimit, DynamoCommunityStore
from barcode_service.errors import ContributionLimitExceeded, UpstreamUnavailable
from tests.conftest import TABLE

GTIN = "00012345678905"


def store(clock: float = 1000.0) -> DynamoCommunityStore:
    return DynamoCommunityStore(TABLE, boto3.client("dynamodb"), clock=lambda: clock)


def add(who: str, name: str = "Soap") -> Callable[[CodeRecord], CodeRecord]:
    def change(record: CodeRecord) -> CodeRecord:
        return record.with_contribution(Contribution(who, Description(name), 100, 100))

    return change


def test_a_change_that_lost_a_race_is_made_again_on_the_newer_record(table: str) -> None:
    records = store()
    records.change(GTIN, add("alice"))
    raced = False

    def meanwhile_bob(record: CodeRecord) -> CodeRecord:
        nonlocal raced
        if not raced:  # another writer stores its change between our read and our put
            raced = True
            records.change(GTIN, add("bob"))
        return add("carol")(record)

    changed = records.change(GTIN, meanwhile_bob)
    assert changed is not None
    assert [c.contributor for c in changed.contributions] == ["alice", "bob", "carol"]
    stored = records.get(GTIN)
    assert stored is not None
    assert stored.version == 3
    assert records.change(GTIN, lambda record: None) is None, "nothing to store"


def test_a_record_changed_by_others_every_time_is_a_503(table: str) -> None:
    records = store()
    records.change(GTIN, add("alice"))
    other = store()

    def always_raced(record: CodeRecord) -> CodeRecord:
        other.change(GTIN, add(f"x{record.version}"))
        return add("carol")(record)

    with pytest.raises(UpstreamUnavailable) as raised:
        records.change(GTIN, always_raced)
    assert raised.value.retry_after == 1
    stored = other.get(GTIN)
    assert stored is not None
    assert len(stored.contributions) == 1 + ATTEMPTS


def test_operators_list_records_by_state_newest_first(table: str) -> None:
    for n, gtin in enumerate(("00000000000017", "00000000000024", "00000000000031")):
        store(clock=1000.0 + n).change(gtin, add("alice"))

    def publish(record: CodeRecord) -> CodeRecord:
        return record.publish("alice", by="operator", now=2000)

    store(clock=2000.0).change("00000000000024", publish)
    pending = [r.gtin14 for r in store().records("pending")]
    assert pending == ["00000000000031", "00000000000017"]
    assert [r.gtin14 for r in store().records("published")] == ["00000000000024"]
    assert list(store().records("rejected")) == []


def test_the_index_pages_through_many_records(table: str) -> None:
    client = boto3.client("dynamodb")
    records = DynamoCommunityStore(TABLE, client)
    record = CodeRecord(GTIN).with_contribution(Contribution("a", Description("x"), 1, 1))
    for n in range(30):
        item = dataclasses.replace(record, gtin14=f"{n:014d}").to_item(now=n)
        client.put_item(TableName=TABLE, Item=item)
    original = client.query

    def small_pages(**kwargs: Any) -> Any:
        return original(**kwargs, Limit=7)

    client.query = small_pages  # type: ignore[method-assign]
    assert len(list(records.records("pending"))) == 30


def test_the_daily_limit_counts_per_caller_and_day(table: str) -> None:
    noon = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
    limit = DailyLimit(TABLE, boto3.client("dynamodb"), 2, clock=lambda: noon)
    day = limit.take("alice")
    limit.take("alice")
    with pytest.raises(ContributionLimitExceeded) as over:
        limit.take("alice")
    assert over.value.status == 429
    assert over.value.retry_after == 12 * 3600, "until 00:00 UTC"
    limit.take("bob")
    limit.give_back("alice", day)
    limit.take("alice")


def test_no_limit_counts_nothing(table: str) -> None:
    limit = DailyLimit(TABLE, boto3.client("dynamodb"), 0)
    for _ in range(50):
        limit.give_back("alice", limit.take("alice"))
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert not items
