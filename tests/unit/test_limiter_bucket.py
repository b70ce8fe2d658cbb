"""The fleet limiter: token-bucket limits (RateLimit.burst > 1, Baichuan's), late callers
of window limits, and how many writes a slot costs under load."""

from __future__ import annotations

import math
import random

import boto3
import pytest

from barcode_service.limiter import LATE_FRACTION, SPACING_MARGIN, FleetLimiter, rate_key, spacing
from barcode_service.providers.base import RateLimit
from barcode_service.settings import get_settings
from barcode_service.wiring import build_provider
from bench.limiter import bucket_violations
from tests.conftest import TABLE
from tests.unit.test_limiter import OFF_LIMIT, Clock

BUCKET = RateLimit(requests=20, per_seconds=1, burst=10)  # LookupRateLimit, LookupBurstLimit


def _next_at(provider: str) -> int:
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": rate_key(provider)}}
    )["Item"]
    return int(item["next_at"]["N"])


def test_spacing_of_each_kind_of_limit() -> None:
    assert spacing(OFF_LIMIT) == (math.ceil(600 * SPACING_MARGIN), LATE_FRACTION * 60_000)
    assert spacing(BUCKET) == (50, 9 * 50 / 2)  # exact slots; half the depth may be late
    assert spacing(BUCKET, strict=False) == (50, math.inf)


def test_bucket_slots_are_the_rates_own_interval(table: str, clock: Clock) -> None:
    instances = [FleetLimiter(TABLE, clock=clock, sleep=lambda s: None) for _ in range(4)]
    waits = [limiter.acquire("baichuan", BUCKET, max_wait=2) for limiter in instances]
    assert waits == pytest.approx([0, 0.05, 0.10, 0.15], abs=0.001)


def test_a_late_caller_of_a_bucket_keeps_its_slot(table: str, clock: Clock) -> None:
    late = [0.2]  # later than a window limit allows, within half the bucket's depth

    def sleep(seconds: float) -> None:
        clock.now += seconds + (late.pop() if late else 0)

    first = FleetLimiter(TABLE, clock=clock, sleep=sleep)
    first.acquire("baichuan", BUCKET, max_wait=2)
    slot = _next_at("baichuan")
    first.acquire("baichuan", BUCKET, max_wait=2)  # queued, wakes 200 ms late
    assert _next_at("baichuan") == slot + 50  # its slot was used, not given up


def test_late_calls_within_the_tolerance_stay_within_the_bucket(table: str, clock: Clock) -> None:
    limiter = FleetLimiter(TABLE, clock=clock, sleep=lambda s: None)
    _, tolerance = spacing(BUCKET)
    draw = random.Random(7)
    slots = [clock.now + limiter.acquire("baichuan", BUCKET, max_wait=60) for _ in range(400)]
    # Every caller leaves up to the tolerance late, in the worst order too (early ones
    # late, later ones on time): the provider's bucket admits them all.
    jittered = [s + draw.uniform(0, tolerance / 1000) for s in slots]
    worst = [s + (tolerance / 1000 if i % 20 < 10 else 0) for i, s in enumerate(slots)]
    assert bucket_violations(jittered, BUCKET.requests, BUCKET.burst) == 0
    assert bucket_violations(worst, BUCKET.requests, BUCKET.burst) == 0
    # And the rate is the limit's whole rate, not 5% under it.
    assert (slots[-1] - slots[0]) == pytest.approx(399 * 0.05, abs=0.001)


def test_a_late_caller_of_a_window_limit_moves_its_slot_when_no_one_queued(
    table: str, clock: Clock
) -> None:
    late = [0.2]  # 200 ms > 4% of... a 1 s window: 40 ms

    def sleep(seconds: float) -> None:
        clock.now += seconds + (late.pop() if late else 0)

    limit = RateLimit(requests=10, per_seconds=1)
    limiter = FleetLimiter(TABLE, clock=clock, sleep=sleep)
    limiter.acquire("openlibrary", limit, max_wait=2)
    limiter.acquire("openlibrary", limit, max_wait=2)  # queued, wakes late
    # Moved to the moment it woke: the next slot is one interval after that.
    assert _next_at("openlibrary") == int(clock.now * 1000) + 105


def test_a_late_caller_of_a_window_limit_queues_behind_the_others(table: str, clock: Clock) -> None:
    limit = RateLimit(requests=10, per_seconds=1)
    other = FleetLimiter(TABLE, clock=clock, sleep=lambda s: None)

    behind = [True]

    def sleep(seconds: float) -> None:
        if behind.pop() if behind else False:
            # While this caller sleeps, another instance queues behind it; it wakes late.
            other.acquire("openlibrary", limit, max_wait=2)
            seconds += 0.2
        clock.now += seconds

    late = FleetLimiter(TABLE, clock=clock, sleep=sleep)
    other.acquire("openlibrary", limit, max_wait=2)  # the provider is busy
    slot_of_other_behind = _next_at("openlibrary") + 105
    late.acquire("openlibrary", limit, max_wait=5)
    # It gave its slot up and took the one after the caller that queued behind it.
    assert _next_at("openlibrary") >= slot_of_other_behind + 105


def test_baichuans_limit_is_the_lookup_routes_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAICHUAN_REQUESTS_PER_SECOND", "15")
    monkeypatch.setenv("BAICHUAN_BURST", "6")
    get_settings.cache_clear()
    provider = build_provider("baichuan", get_settings(), lambda: None, None)  # type: ignore[arg-type]
    assert provider.limit == RateLimit(15, 1, 6)


class CountingClient:
    """The real moto client, counting UpdateItem calls."""

    def __init__(self) -> None:
        self.real = boto3.client("dynamodb")
        self.updates = 0

    def update_item(self, **kwargs: object) -> object:
        self.updates += 1
        return self.real.update_item(**kwargs)

    def get_item(self, **kwargs: object) -> object:
        return self.real.get_item(**kwargs)


def test_a_provider_seen_busy_a_moment_ago_is_queued_for_with_one_write(
    table: str, clock: Clock
) -> None:
    others = FleetLimiter(TABLE, clock=clock, sleep=lambda s: None)
    counting = CountingClient()
    ours = FleetLimiter(TABLE, counting, clock=clock, sleep=lambda s: None)
    others.acquire("baichuan", BUCKET, max_wait=5)
    ours.acquire("baichuan", BUCKET, max_wait=5)  # busy: idle try fails, then queued
    assert counting.updates == 2
    for _ in range(5):
        others.acquire("baichuan", BUCKET, max_wait=5)  # the fleet moves next_at on
    clock.now += 0.2  # what we saw is in the past, the provider is still busy
    counting.updates = 0
    ours.acquire("baichuan", BUCKET, max_wait=5)
    assert counting.updates == 1


def test_a_provider_idle_again_after_a_busy_moment_costs_one_extra_write(
    table: str, clock: Clock
) -> None:
    counting = CountingClient()
    ours = FleetLimiter(TABLE, counting, clock=clock, sleep=lambda s: None)
    ours.acquire("baichuan", BUCKET, max_wait=5)
    ours.acquire("baichuan", BUCKET, max_wait=5)  # queued: seen busy
    clock.now += 0.5  # idle again within the memory
    counting.updates = 0
    assert ours.acquire("baichuan", BUCKET, max_wait=0) == 0
    assert counting.updates == 2  # the queue try learns it is idle, then takes it now
    clock.now += 2  # past the memory: straight to the idle slot
    counting.updates = 0
    ours.acquire("baichuan", BUCKET, max_wait=0)
    assert counting.updates == 1
