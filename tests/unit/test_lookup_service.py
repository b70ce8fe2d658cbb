"""Lookup service paths against moto (DynamoDB, Secrets Manager) and a mocked upstream."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
import responses

from barcode_service.cache import DynamoLookupStore
from barcode_service.errors import (
    InvalidGtin,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamPlanExhausted,
    UpstreamQuotaExhausted,
    UpstreamUnavailable,
)
from barcode_service.lookup import LookupService
from barcode_service.product import ProductFields
from barcode_service.settings import load_settings
from barcode_service.wiring import build_lookup_service
from tests.conftest import SECRET, TABLE
from tests.support.clocks import Clock
from tests.support.lookups import batch_rows, quota_block
from tests.support.upstreams import (
    BAICHUAN_URL,
    baichuan_failure,
    baichuan_found,
    baichuan_not_found,
)

CODE = "6901234567892"
OTHER = "4006381333931"


def calls(mock: responses.RequestsMock) -> list[str]:
    return [str(c.request.body) for c in mock.calls]


def test_miss_calls_upstream_then_cache_answers(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE, "Green Tea"))
    first = service.lookup(CODE).to_dict()
    second = service.lookup("690-1234-56789-2").to_dict()
    assert first["source"] == "upstream"
    assert first["name"] == "Green Tea"
    assert first["price"] == "29.90"
    assert first["image_url"] == f"https://tiaoma.cnaidc.com/uploads/img/{CODE}.jpg"
    assert first["gtin"] == "06901234567892"
    assert first["format"] == "EAN-13"
    assert first["gs1_prefix"] == {"prefix": "690", "issuer": "GS1 China"}
    assert first["fetched_at"].startswith("2026-11-25T12:00:00")
    assert second["source"] == "cache"
    assert second["name"] == "Green Tea"
    assert len(upstream.calls) == 1


def test_upc_a_is_sent_upstream_as_ean13(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found("0036000291452"))
    service.lookup("036000291452")
    assert "code_sn=0036000291452" in calls(upstream)[0]


def test_not_found_is_cached_briefly(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_not_found("中国"))
    with pytest.raises(NotFound) as info:
        service.lookup(CODE)
    problem = info.value.to_problem()
    assert problem["code"] == "not_found"
    assert problem["country"] == "中国"
    assert problem["gs1_prefix"]["issuer"] == "GS1 China"
    with pytest.raises(NotFound) as again:
        service.lookup(CODE)
    assert again.value.to_problem()["source"] == "cache"
    assert len(upstream.calls) == 1
    clock.now += 86_400 + 1  # not-found answers are fresh for one day by default
    with pytest.raises(NotFound):
        service.lookup(CODE)
    assert len(upstream.calls) == 2


def test_invalid_and_restricted_codes_never_reach_upstream(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    with pytest.raises(InvalidGtin, match="expected 2"):
        service.lookup("6901234567891")
    with pytest.raises(NotFound, match="restricted circulation"):
        service.lookup("2012345678903")
    assert len(upstream.calls) == 0


def test_catalog_wins_over_cache_and_upstream(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE, "Upstream Name"))
    service.lookup(CODE)
    service.store.put_catalog("06901234567892", ProductFields(name="Operator Name", brand="Ours"))
    product = service.lookup(CODE).to_dict()
    assert product["source"] == "catalog"
    assert product["name"] == "Operator Name"
    assert product["company"] is None
    assert len(upstream.calls) == 1


def test_stale_entry_served_when_upstream_fails(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE, "Old Name"))
    service.lookup(CODE)
    clock.now += 31 * 86_400
    upstream.replace(responses.POST, BAICHUAN_URL, status=503)
    product = service.lookup(CODE).to_dict()
    assert product["stale"] is True
    assert product["source"] == "cache"
    assert product["name"] == "Old Name"


def test_upstream_failure_without_stale_entry_is_503(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, body="<html><body>502 Bad Gateway</body></html>", status=200)
    with pytest.raises(UpstreamError) as info:
        service.lookup(CODE)
    assert info.value.to_problem()["code"] == "upstream_error"


def test_daily_quota_blocks_until_china_midnight(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_failure("今日查询次数已用完"))
    with pytest.raises(UpstreamQuotaExhausted) as info:
        service.lookup(CODE)
    # 12:00 UTC is 20:00 in UTC+8: four hours to the reset.
    assert info.value.retry_after == 4 * 3600
    with pytest.raises(UpstreamQuotaExhausted) as again:
        service.lookup(OTHER)
    assert again.value.retry_after == 4 * 3600
    assert len(upstream.calls) == 1
    clock.now += 4 * 3600 + 1
    upstream.replace(responses.POST, BAICHUAN_URL, json=baichuan_found(OTHER))
    assert service.lookup(OTHER).source == "upstream"


def test_quota_block_still_serves_stale(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE))
    service.lookup(CODE)
    clock.now += 40 * 86_400
    quota_block(service.health, int(clock.now) + 3600, now=clock.now)
    product = service.lookup(CODE)
    assert product.stale
    assert len(upstream.calls) == 1


def test_plan_used_up_stops_further_calls(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_failure("套餐查询次数已用完"))
    with pytest.raises(UpstreamPlanExhausted):
        service.lookup(CODE)
    with pytest.raises(UpstreamPlanExhausted) as info:
        service.lookup(OTHER)
    assert info.value.status == 503
    assert info.value.retry_after is not None
    assert len(upstream.calls) == 1


def test_without_credentials_a_listed_provider_cannot_answer(
    table: str, clock: Clock, upstream: responses.RequestsMock
) -> None:
    # Contract change (issue 13): an unknown code is no longer a 404 `source: catalog`
    # when the only provider listed has no keys; nobody could say "not found", so the
    # answer is a 503 naming the provider that could not answer.
    boto3.client("secretsmanager").create_secret(
        Name=SECRET, SecretString=json.dumps({"lookup": {"api_key": "", "secret_key": ""}})
    )
    service = build_lookup_service(load_settings())
    with pytest.raises(UpstreamError, match="no credentials configured") as info:
        service.lookup(CODE)
    problem = info.value.to_problem()
    assert (problem["status"], problem["code"]) == (503, "upstream_not_configured")
    assert problem["providers"] == [{"name": "baichuan", "outcome": "not_configured"}]
    assert info.value.retry_after
    service.store.put_catalog("06901234567892", ProductFields(name="From the catalog"))
    assert service.lookup(CODE).source == "catalog"
    assert len(upstream.calls) == 0


def test_concurrent_misses_make_one_upstream_call(table: str, secret: dict) -> None:
    count = 0
    lock = threading.Lock()

    def slow_answer(request: object) -> tuple[int, dict[str, str], str]:
        nonlocal count
        with lock:
            count += 1
        time.sleep(0.3)
        return 200, {}, json.dumps(baichuan_found(CODE))

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, BAICHUAN_URL, callback=slow_answer)
        results: list[str] = []
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                service = build_lookup_service(load_settings())  # one per "Lambda instance"
                results.append(service.lookup(CODE).source)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert count == 1
    assert sorted(results) == ["cache"] * 7 + ["upstream"]


def test_waiter_gives_up_with_retry_after_when_lease_never_clears(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    assert service.store.acquire_lease("06901234567892", "someone-else", 60, clock.now)

    def advancing_sleep(seconds: float) -> None:
        clock.now += 1

    service._sleep = advancing_sleep
    with pytest.raises(UpstreamUnavailable) as info:
        service.lookup(CODE)
    assert info.value.retry_after == 1
    assert len(upstream.calls) == 0


def test_expired_lease_is_taken_over(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    assert service.store.acquire_lease("06901234567892", "crashed", 5, clock.now - 60)
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE))
    assert service.lookup(CODE).source == "upstream"


def test_batch_one_row_per_code_in_order_duplicates_once(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_found(CODE))
    rows = batch_rows(service, [CODE, "690 1234 567892", "6901234567891", 42, "2012345678903"])
    assert [r["code"] for r in rows] == [
        CODE,
        "690 1234 567892",
        "6901234567891",
        "42",
        "2012345678903",
    ]
    assert [r["status"] for r in rows] == [
        "found",
        "found",
        "invalid_gtin",
        "invalid_gtin",
        "not_found",
    ]
    assert rows[0]["product"]["name"] == "Test Product"
    assert rows[2]["error"]["code"] == "invalid_gtin"
    assert len(upstream.calls) == 1


def test_batch_upstream_errors_are_rows_not_failures(
    service: LookupService, upstream: responses.RequestsMock
) -> None:
    upstream.post(BAICHUAN_URL, status=500)
    rows = batch_rows(service, [CODE])
    assert rows[0]["status"] == "error"
    assert rows[0]["error"]["code"] == "upstream_unavailable"


@pytest.mark.parametrize(
    ("codes", "error"),
    [([], InvalidParameter), ("x", InvalidParameter), (["1"] * 101, PayloadTooLarge)],
)
def test_batch_shape_errors(service: LookupService, codes: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        batch_rows(service, codes)


def test_table_outage_is_a_defined_error(secret: dict, upstream: responses.RequestsMock) -> None:
    # No table created: DynamoDB answers ResourceNotFoundException.
    service = build_lookup_service(load_settings())
    with pytest.raises(UpstreamUnavailable, match="cache table"):
        service.lookup(CODE)


def test_store_ignores_expired_blocks(table: str) -> None:
    store = DynamoLookupStore(TABLE)
    quota_block(store.client, 100, now=0)
    health = store.snapshot("06901234567892", now=200).health["baichuan"]
    assert health.live_block(200) is None
    assert store.snapshot("06901234567892", now=50).health["baichuan"].live_block(50) is not None


def test_rejected_key_is_503_and_stops_calls_briefly(
    service: LookupService, upstream: responses.RequestsMock, clock: Clock
) -> None:
    upstream.post(BAICHUAN_URL, json=baichuan_failure("API Key或Secret Key错误"))
    with pytest.raises(UpstreamAuthFailed):
        service.lookup(CODE)
    calls_after_first = len(upstream.calls)  # the first try plus nothing: the secret did not change
    with pytest.raises(UpstreamAuthFailed):
        service.lookup(OTHER)
    assert len(upstream.calls) == calls_after_first
    clock.now += 61
    with pytest.raises(UpstreamAuthFailed):
        service.lookup(OTHER)
    assert len(upstream.calls) == calls_after_first + 1


def test_malformed_secret_is_a_fault_not_a_missing_product(
    table: str, upstream: responses.RequestsMock
) -> None:
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString="not json at all")
    service = build_lookup_service(load_settings())
    with pytest.raises(UpstreamAuthFailed, match="not a JSON document") as info:
        service.lookup(CODE)
    assert info.value.status == 503
    assert len(upstream.calls) == 0


def test_an_upload_worker_outwaits_a_lease_left_by_a_stopped_worker(table: str) -> None:
    settings = load_settings()
    api = build_lookup_service(settings)
    worker = build_lookup_service(settings, uploads=True)
    assert api.policy.lease_wait_seconds == settings.lease_wait_seconds  # a user waits 6 s
    assert worker.policy.lease_wait_seconds > settings.lease_seconds  # the lease ends first
