"""The upload workers' share of the provider rate, spaced across the fleet (FleetShare)."""

from __future__ import annotations

import dataclasses
import math

import boto3
import pytest

from barcode_service.errors import UpstreamRateLimited, UpstreamUnavailable
from barcode_service.limiter import FleetLimiter, rate_key
from barcode_service.providers.base import RateLimit
from barcode_service.settings import get_settings
from barcode_service.uploads.pacing import (
    SHARE_KEY,
    SHARE_MAX_WAIT,
    SHARE_SLACK,
    FleetShare,
    Pacer,
)
from barcode_service.wiring import build_lookup_service, build_upload_worker
from tests.conftest import TABLE
from tests.unit.test_limiter import Clock

SHARE = 20.0  # WORKER_LOOKUPS_PER_SECOND 4 x UPLOADS_MAXIMUM_CONCURRENCY 5
SLOT = math.ceil(1000 / SHARE * SHARE_SLACK) / 1000  # the limiter's whole milliseconds


class Fallback:
    def __init__(self) -> None:
        self.taken = 0

    def take(self) -> None:
        self.taken += 1


class FailingLimiter:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.asked: list[tuple[str, float, bool]] = []

    def acquire(
        self, provider: str, limit: RateLimit, max_wait: float, *, strict: bool = True
    ) -> float:
        self.asked.append((provider, max_wait, strict))
        raise self.error


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _share(clock: Clock, fallback: Fallback | None = None) -> FleetShare:
    limiter = FleetLimiter(TABLE, clock=clock, sleep=clock.sleep)  # one per worker instance
    return FleetShare(limiter, SHARE, fallback or Fallback())


def test_a_worker_alone_may_use_the_whole_share(table: str, clock: Clock) -> None:
    share = _share(clock)
    started = clock.now
    for _ in range(11):
        share.take()
    # Ten intervals of the uploads' whole rate, not of one worker's 4/s.
    assert clock.now - started == pytest.approx(10 * SLOT, abs=0.002)


def test_workers_split_the_share_between_them(table: str, clock: Clock) -> None:
    workers = [_share(clock) for _ in range(5)]
    started = clock.now
    for _ in range(4):
        for worker in workers:
            worker.take()
    # 20 lookups of five workers together: spaced as one stream of the share.
    assert clock.now - started == pytest.approx(19 * SLOT, abs=0.002)
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": rate_key(SHARE_KEY)}}
    )["Item"]
    assert int(item["next_at"]["N"]) == pytest.approx((clock.now + SLOT) * 1000, abs=2)


def test_a_late_wake_up_keeps_its_slot_of_the_share(table: str, clock: Clock) -> None:
    late = [0.5]  # far past the limiter's strict tolerance

    def sleep(seconds: float) -> None:
        clock.now += seconds + (late.pop() if late else 0)

    share = FleetShare(FleetLimiter(TABLE, clock=clock, sleep=sleep), SHARE, Fallback())
    share.take()
    share.take()  # queued for the next slot, wakes 0.5 s late: still its slot
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": rate_key(SHARE_KEY)}}
    )["Item"]
    # Not given up and queued again: the share's next slot is the one after it.
    assert int(item["next_at"]["N"]) == pytest.approx((clock.now - 0.5 + SLOT) * 1000, abs=2)


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable("the rate limiter's table is unreachable"),
        UpstreamRateLimited("the queue is long", retry_after=20),
    ],
)
def test_without_a_slot_of_the_share_the_worker_paces_itself(error: Exception) -> None:
    fallback = Fallback()
    limiter = FailingLimiter(error)
    share = FleetShare(limiter, SHARE, fallback)
    share.take()
    assert limiter.asked == [(SHARE_KEY, SHARE_MAX_WAIT, False)]
    assert fallback.taken == 1


def test_the_worker_is_built_with_the_fleet_share_of_its_settings(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_LOOKUPS_PER_SECOND", "2")
    monkeypatch.setenv("UPLOADS_MAXIMUM_CONCURRENCY", "8")
    get_settings.cache_clear()
    settings = get_settings()
    worker = build_upload_worker(settings, build_lookup_service(settings, uploads=True))
    assert isinstance(worker.pacer, FleetShare)
    assert worker.pacer.limit == RateLimit(16.0 / SHARE_SLACK, 1.0)
    assert isinstance(worker.pacer.fallback, Pacer)
    assert worker.pacer.fallback.interval == pytest.approx(0.5)
    assert worker.chunks.pacer is worker.pacer


def test_settings_share_defaults_to_the_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPLOADS_MAXIMUM_CONCURRENCY", raising=False)
    monkeypatch.delenv("WORKER_LOOKUPS_PER_SECOND", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.uploads_lookups_per_second == SHARE
    two_workers = dataclasses.replace(settings, uploads_maximum_concurrency=2)
    assert two_workers.uploads_lookups_per_second == 8
