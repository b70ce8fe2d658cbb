"""LookupService.resolve: the outcome says what the lookup did, so no caller infers it."""

from __future__ import annotations

from datetime import UTC, datetime

import responses

from barcode_service.errors import ACCOUNT_BLOCKS, UpstreamPlanExhausted
from barcode_service.lookup import LookupService
from barcode_service.lookup_outcome import LookupOutcome, ProviderCall
from tests.support.clocks import Clock
from tests.support.lookups import quota_block
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_failure,
    baichuan_found,
    baichuan_not_found,
)

PROVIDER = "baichuan"
CODE = "6901234567892"
OTHER = "4006381333931"


def test_a_miss_calls_the_provider_and_the_cache_then_answers_without(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE, "Green Tea"))
    first = service.resolve(CODE)
    assert first.status == "found"
    assert first.product is not None
    assert first.product.source == "upstream"
    assert first.calls == (ProviderCall(PROVIDER, "found"),)
    assert first.called_provider
    assert first.blocked is None
    again = service.resolve(CODE)
    assert again.status == "found"
    assert again.calls == ()
    assert not again.called_provider
    assert again.answer()["product"]["source"] == "cache"


def test_not_found_and_invalid_codes(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_not_found())
    missing = service.resolve(CODE)
    assert missing.status == "not_found"
    assert missing.calls == (ProviderCall(PROVIDER, "not_found"),)
    assert missing.answer()["error"]["code"] == "not_found"
    invalid = service.resolve("6901234567891")
    assert invalid.status == "invalid_gtin"
    assert invalid.calls == ()
    assert invalid.answer() == {"status": "invalid_gtin", "error": invalid.result.to_problem()}
    restricted = service.resolve("2012345678903")
    assert (restricted.status, restricted.calls) == ("not_found", ())
    assert len(upstream.calls) == 1


def test_a_failed_call_is_a_call_and_an_error_row(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, status=500)
    outcome = service.resolve(CODE)
    assert outcome.status == "error"
    assert outcome.calls == (ProviderCall(PROVIDER, "upstream_unavailable"),)
    assert outcome.blocked is None
    assert outcome.error is not None
    assert outcome.answer()["error"]["code"] == "upstream_unavailable"


def test_daily_quota_says_until_when_the_provider_is_blocked(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_failure("今日查询次数已用完"))
    reset = datetime(2026, 11, 26, 0, 0, tzinfo=UTC).timestamp() - 8 * 3600  # China midnight
    first = service.resolve(CODE)
    assert first.calls == (ProviderCall(PROVIDER, "upstream_quota_exhausted"),)
    assert first.blocked is not None
    assert (first.blocked.provider, first.blocked.code) == (PROVIDER, "upstream_quota_exhausted")
    assert first.blocked.until == reset
    # The next code meets the recorded block: no call, the same end.
    second = service.resolve(OTHER)
    assert second.calls == ()
    assert second.blocked == first.blocked
    assert len(upstream.calls) == 1


def test_account_block_lasts_as_long_as_its_table_row(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_failure("套餐查询次数已用完"))
    outcome = service.resolve(CODE)
    seconds = ACCOUNT_BLOCKS[UpstreamPlanExhausted.code][1]
    assert outcome.blocked is not None
    assert outcome.blocked.code == "upstream_plan_exhausted"
    assert outcome.blocked.until == int(clock.now) + seconds
    assert service.resolve(OTHER).blocked == outcome.blocked


def test_a_stale_answer_is_not_blocked(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE))
    service.resolve(CODE)
    clock.now += 40 * 86_400
    quota_block(service.health, int(clock.now) + 3600, now=clock.now)
    outcome = service.resolve(CODE)
    assert outcome.status == "found"
    assert outcome.product is not None
    assert outcome.product.stale
    assert outcome.blocked is None
    assert outcome.calls == ()


def test_outcome_of_an_error_has_no_product() -> None:
    outcome = LookupOutcome(UpstreamPlanExhausted("x"))
    assert outcome.product is None
    assert outcome.status == "error"
