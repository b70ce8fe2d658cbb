"""The fleet-wide provider rate limiter against moto DynamoDB, on an injected clock."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from barcode_service.errors import UpstreamRateLimited, UpstreamUnavailable
from barcode_service.limiter import FleetLimiter, rate_key
from barcode_service.providers.base import RateLimit
from tests.conftest import TABLE

OFF_LIMIT = RateLimit(requests=100, per_seconds=60)  # one slot every 0.63 s (0.6 + 5%)


class Clock:
    """A clock that moves only when somebody sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(table: str, clock: Clock) -> FleetLimiter:
    return FleetLimiter(TABLE, clock=clock, sleep=clock.sleep)


def test_idle_provider_is_called_at_once_with_one_write(limiter: FleetLimiter, clock) -> None:
    assert limiter.acquire("openfoodfacts", OFF_LIMIT, max_wait=2) == 0
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": rate_key("openfoodfacts")}}
    )["Item"]
    assert int(item["next_at"]["N"]) == int(clock.now * 1000) + 630
    assert int(item["expires_at"]["N"]) > clock.now


def test_busy_provider_callers_queue_for_slots(table: str, clock: Clock) -> None:
    # Three instances (own limiter objects) share the item; none moves the clock.
    instances = [FleetLimiter(TABLE, clock=clock, sleep=lambda s: None) for _ in range(3)]
    waits = [instance.acquire("openfoodfacts", OFF_LIMIT, max_wait=2) for instance in instances]
    assert waits == pytest.approx([0, 0.63, 1.26], abs=0.001)
    with pytest.raises(UpstreamRateLimited) as info:
        instances[0].acquire("openfoodfacts", OFF_LIMIT, max_wait=1)
    assert info.value.retry_after == 2  # the next free slot is 1.89 s away


def test_other_providers_have_their_own_slots(limiter: FleetLimiter) -> None:
    limiter.acquire("openfoodfacts", OFF_LIMIT, max_wait=0)
    assert limiter.acquire("openlibrary", RateLimit(60, 60), max_wait=0) == 0
    with pytest.raises(UpstreamRateLimited):
        limiter.acquire("openfoodfacts", OFF_LIMIT, max_wait=0.5)


def test_calls_keep_to_the_limit_in_every_window(limiter: FleetLimiter, clock) -> None:
    starts = []
    for _ in range(250):
        limiter.acquire("openfoodfacts", OFF_LIMIT, max_wait=5)
        starts.append(clock.now)
    worst = max(sum(1 for t in starts if begin <= t < begin + 60) for begin in starts)
    assert worst == 96  # 100 per minute is the limit; the margin keeps clear of it
    assert starts[-1] - starts[0] == pytest.approx(249 * 0.63, abs=0.01)


def test_idle_again_after_the_queue_drains(limiter: FleetLimiter, clock) -> None:
    limiter.acquire("openlibrary", RateLimit(1, 1), max_wait=5)
    limiter.acquire("openlibrary", RateLimit(1, 1), max_wait=5)
    clock.now += 10
    assert limiter.acquire("openlibrary", RateLimit(1, 1), max_wait=0) == 0


def test_threads_sharing_the_table_never_share_a_slot(table: str) -> None:
    limit = RateLimit(requests=1000, per_seconds=1)  # 1 ms slots, real clock
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter = FleetLimiter(TABLE)
        for _ in range(10):
            limiter.acquire("baichuan", limit, max_wait=5)
            with lock:
                slots.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": rate_key("baichuan")}}
    )["Item"]
    assert len(slots) == 40
    assert int(item["next_at"]["N"]) > 0


def test_table_outage_is_a_defined_error(aws: None) -> None:
    limiter = FleetLimiter("no-such-table")
    with pytest.raises(UpstreamUnavailable):
        limiter.acquire("openfoodfacts", OFF_LIMIT, max_wait=1)


def test_condition_failure_without_item_reads_the_item(table: str, clock: Clock) -> None:
    real = boto3.client("dynamodb")
    real.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": rate_key("openlibrary")},
            "next_at": {"N": str(int(clock.now * 1000) + 9000)},
        },
    )

    class NoOldItem:
        def update_item(self, **kwargs: object) -> object:
            try:
                return real.update_item(**kwargs)
            except ClientError as error:
                error.response.pop("Item", None)
                raise

        def get_item(self, **kwargs: object) -> object:
            return real.get_item(**kwargs)

    limiter = FleetLimiter(TABLE, NoOldItem(), clock=clock, sleep=clock.sleep)
    with pytest.raises(UpstreamRateLimited) as info:
        limiter.acquire("openlibrary", RateLimit(1, 1), max_wait=2)
    assert info.value.retry_after == 9


def test_a_caller_that_wakes_too_late_takes_a_later_slot(table: str, clock: Clock) -> None:
    oversleep = [5.0]  # more than 2.5% of the 60 s window late: the slot may not be used

    def sleep(seconds: float) -> None:
        clock.now += seconds + (oversleep.pop() if oversleep else 0)

    limiter = FleetLimiter(TABLE, clock=clock, sleep=sleep)
    limiter.acquire("openfoodfacts", OFF_LIMIT, max_wait=10)
    limiter.acquire("openfoodfacts", OFF_LIMIT, max_wait=10)
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": rate_key("openfoodfacts")}}
    )["Item"]
    # The late caller gave its slot up and took the provider's next one, at its wake time.
    assert int(item["next_at"]["N"]) == int(clock.now * 1000) + 630


def test_a_daily_allowance_is_kept_by_the_whole_fleet_until_the_utc_midnight(
    table: str, clock: Clock
) -> None:
    from datetime import UTC, datetime

    from barcode_service.errors import UpstreamQuotaExhausted
    from barcode_service.limiter import day_key

    clock.now = datetime(2027, 1, 14, 23, 0, tzinfo=UTC).timestamp()
    daily = RateLimit(requests=600, per_seconds=60, per_day=3)  # one slot every 0.105 s
    instances = [FleetLimiter(TABLE, clock=clock, sleep=clock.sleep) for _ in range(2)]
    for n in range(3):
        instances[n % 2].acquire("upcitemdb", daily, max_wait=5)
    with pytest.raises(UpstreamQuotaExhausted) as info:
        instances[1].acquire("upcitemdb", daily, max_wait=5)
    assert info.value.reset_at == datetime(2027, 1, 15, tzinfo=UTC)
    assert info.value.retry_after == 3600  # 3599.6 s, rounded up
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": day_key("upcitemdb", "2027-01-14")}}
    )["Item"]
    assert (item["calls"]["N"], int(item["expires_at"]["N"])) == (
        "3",
        int(datetime(2027, 1, 17, tzinfo=UTC).timestamp()),
    )
    clock.now = datetime(2027, 1, 15, 0, 0, 1, tzinfo=UTC).timestamp()  # a new UTC day
    instances[0].acquire("upcitemdb", daily, max_wait=5)
    # A limit without a daily allowance writes no counter.
    instances[0].acquire("openfoodfacts", OFF_LIMIT, max_wait=5)
    scan = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert sorted(i["pk"]["S"] for i in scan if i["pk"]["S"].startswith("DAY#")) == [
        "DAY#upcitemdb#2027-01-14",
        "DAY#upcitemdb#2027-01-15",
    ]
