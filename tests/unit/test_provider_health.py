"""Provider health: a real circuit breaker shared by the fleet, and the most specific block.

Two lookup services on one moto table stand for two function instances: what one
records about a provider's health, the other obeys. Baichuan answers with its real
shapes (its own documentation's example is not even valid JSON).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
import responses

from barcode_service.errors import ServiceError, UpstreamError
from barcode_service.lookup import LookupService
from barcode_service.provider_health import ProviderBlock
from barcode_service.settings import load_settings
from barcode_service.wiring import build_lookup_service
from tests.support.clocks import Clock
from tests.support.lookups import on_clock
from tests.support.upstreams import BAICHUAN_URL, baichuan_failure, baichuan_found

CODES = ["6901234567892", "4006381333931", "9501101530003", "5901234123457", "0036000291452"]
GARBLED = '{"code": 1 "msg": "查询成功"}'  # a missing comma, as in the provider's own example


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp())


def instance(clock: Clock, **env: str) -> LookupService:
    """One function instance's lookup service, on the shared table and the test clock."""
    settings = load_settings({**os.environ, "PROVIDER_OUTAGE_SECONDS": "30", **env})
    return on_clock(build_lookup_service(settings), clock)


@pytest.fixture
def fleet(table: str, secret: dict, clock: Clock) -> tuple[LookupService, LookupService]:
    return instance(clock), instance(clock)


def open_breaker(service: LookupService, upstream: responses.RequestsMock) -> None:
    """Three garbled answers in a row (codes 0-2): the breaker opens for 30 s."""
    upstream.post(BAICHUAN_URL, body=GARBLED)
    for code in CODES[:3]:
        problem_of(service, code)


def problem_of(service: LookupService, code: str) -> dict:
    with pytest.raises(UpstreamError) as info:
        service.lookup(code)
    return info.value.to_problem()


def test_one_garbled_answer_is_that_codes_error_and_does_not_refuse_the_next_code(
    fleet: tuple[LookupService, LookupService], upstream: responses.RequestsMock
) -> None:
    first, _ = fleet
    upstream.post(BAICHUAN_URL, body=GARBLED)
    problem = problem_of(first, CODES[0])
    assert (problem["status"], problem["code"]) == (502, "upstream_error")
    assert problem["providers"] == [{"name": "baichuan", "outcome": "outage"}]  # no block
    upstream.replace(responses.POST, BAICHUAN_URL, json=baichuan_found(CODES[1], "Next"))
    assert first.lookup(CODES[1]).fields.name == "Next"
    assert len(upstream.calls) == 2


def test_three_consecutive_failures_open_the_breaker_for_the_whole_fleet(
    fleet: tuple[LookupService, LookupService],
    upstream: responses.RequestsMock,
    clock: Clock,
) -> None:
    first, second = fleet
    upstream.post(BAICHUAN_URL, body=GARBLED)
    problem_of(first, CODES[0])
    problem_of(second, CODES[1])  # the streak is the fleet's, not one instance's
    third = problem_of(first, CODES[2])
    assert third["code"] == "upstream_error"  # the call that opened it answers as itself
    assert third["providers"] == [
        {"name": "baichuan", "outcome": "outage", "retry_at": "2026-11-25T12:00:30+00:00"}
    ]
    assert len(upstream.calls) == 3
    # Open: the other instance does not call, and says until when.
    refused = problem_of(second, CODES[3])
    assert (refused["status"], refused["code"]) == (503, "upstream_unavailable")
    assert refused["providers"][0]["retry_at"] == "2026-11-25T12:00:30+00:00"
    assert len(upstream.calls) == 3


def test_after_the_cool_down_one_probe_goes_out_and_an_answer_closes_the_breaker(
    fleet: tuple[LookupService, LookupService],
    upstream: responses.RequestsMock,
    clock: Clock,
) -> None:
    first, second = fleet
    open_breaker(first, upstream)
    clock.now += 31
    upstream.replace(responses.POST, BAICHUAN_URL, json=baichuan_found(CODES[3], "Probe"))
    assert second.lookup(CODES[3]).fields.name == "Probe"  # the probe
    upstream.replace(responses.POST, BAICHUAN_URL, json=baichuan_found(CODES[4], "Closed"))
    assert first.lookup(CODES[4]).fields.name == "Closed"  # closed: calls go out again
    assert len(upstream.calls) == 5


def test_half_open_lets_one_probe_through_and_holds_the_others(
    fleet: tuple[LookupService, LookupService],
    upstream: responses.RequestsMock,
    clock: Clock,
) -> None:
    first, second = fleet
    open_breaker(first, upstream)
    clock.now += 31
    assert first.health.claim_probe("baichuan", int(clock.now) + 15, clock.now)  # in flight
    held = problem_of(second, CODES[3])
    assert held["code"] == "upstream_unavailable"
    assert len(upstream.calls) == 3
    # A failed probe opens the breaker again for the whole cool-down.
    clock.now += 16
    reopened = problem_of(second, CODES[3])
    assert reopened["code"] == "upstream_error"
    assert problem_of(first, CODES[4])["code"] == "upstream_unavailable"
    assert len(upstream.calls) == 4


def test_a_quota_exhaustion_during_an_outage_block_is_answered_as_quota(
    fleet: tuple[LookupService, LookupService],
    upstream: responses.RequestsMock,
    clock: Clock,
) -> None:
    first, second = fleet
    open_breaker(first, upstream)
    # A call that was already in flight meets the daily quota: the more specific block wins.
    reset = int(datetime(2026, 11, 25, 16, 0, tzinfo=UTC).timestamp())  # China midnight
    quota = ProviderBlock("baichuan", "upstream_quota_exhausted", reset)
    assert second.health.open(quota, clock.now)
    problem = problem_of(first, CODES[3])
    assert (problem["status"], problem["code"]) == (503, "upstream_quota_exhausted")
    assert problem["reset_at"] == "2026-11-25T16:00:00+00:00"
    # An outage never overwrites it, though it is newer.
    outage = ProviderBlock("baichuan", "upstream_unavailable", int(clock.now) + 30)
    assert not first.health.open(outage, clock.now)
    assert problem_of(second, CODES[4])["code"] == "upstream_quota_exhausted"
    assert len(upstream.calls) == 3


def test_a_quota_answer_blocks_until_the_reset_though_an_outage_was_open(
    table: str, secret: dict, clock: Clock, upstream: responses.RequestsMock
) -> None:
    service = instance(clock, PROVIDER_FAILURES_TO_OPEN="1")
    upstream.post(BAICHUAN_URL, body=GARBLED)
    problem_of(service, CODES[0])  # open for 30 s
    clock.now += 31
    upstream.replace(responses.POST, BAICHUAN_URL, json=baichuan_failure("今日查询次数已用完"))
    probe = problem_of(service, CODES[1])  # the probe meets the daily quota
    assert probe["code"] == "upstream_quota_exhausted"
    assert probe["providers"][0]["retry_at"] == "2026-11-25T16:00:00+00:00"
    clock.now += 3600
    assert problem_of(service, CODES[2])["code"] == "upstream_quota_exhausted"
    assert len(upstream.calls) == 2


def test_a_provider_429_opens_at_once_for_its_retry_after(
    table: str, secret: dict, upstream: responses.RequestsMock, clock: Clock
) -> None:
    first, second = instance(clock, UPSTREAM_ATTEMPTS="1"), instance(clock)
    upstream.post(BAICHUAN_URL, status=429, headers={"Retry-After": "40"})
    slowed = problem_of(first, CODES[0])
    assert (slowed["status"], slowed["code"]) == (429, "rate_limited")
    asked = len(upstream.calls)
    paused = problem_of(second, CODES[1])
    assert paused["code"] == "rate_limited"
    assert paused["providers"][0]["retry_at"] == "2026-11-25T12:00:40+00:00"
    assert len(upstream.calls) == asked


def test_no_provider_is_asked_when_the_request_is_out_of_time(
    fleet: tuple[LookupService, LookupService], upstream: responses.RequestsMock
) -> None:
    from barcode_service import deadline

    first, _ = fleet
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODES[0]))
    with deadline.applying(deadline.Deadline.after(0.5)), pytest.raises(ServiceError) as info:
        first.lookup(CODES[0])
    problem = info.value.to_problem()
    assert (problem["status"], problem["code"]) == (503, "deadline_exceeded")
    assert len(upstream.calls) == 0
    health = first.store.snapshot("0" + CODES[0], 0, ["baichuan"]).health
    assert "baichuan" not in health  # our own lateness is not held against the provider
