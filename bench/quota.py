"""Quota efficiency: upstream calls per distinct code under concurrent Zipf traffic.

32 threads, each with its own LookupService (as 32 Lambda instances would have),
share a moto server (own process) and a fake upstream on loopback that counts calls
per code. 10,000 requests over 1,000 distinct valid EAN-13 codes, Zipf-distributed
(s = 1.1, fixed seed). Every distinct code asked upstream should cost exactly one
call: the cache answers repeats and the single-flight lease stops concurrent
duplicates. The threads ask far faster (~150/s) than the upstream's limit
(LookupRateLimit, 20/s), so the fleet limiter answers some requests 429
`rate_limited` instead, and a code seen only in those is never asked: the figure is
calls per distinct code that reached the upstream, and the note says how many were
refused.

Then the same with the router and three providers (Open Food Facts, Open Library,
Baichuan; fakes with their answer shapes): 900 food codes (Open Food Facts knows a
third, Baichuan the rest) and 100 ISBNs (Open Library knows half, Baichuan the rest).
Each provider must be asked at most once per code, and only for codes the providers
before it did not know: calls / (code, provider) pairs that had to be asked = 1.00.
"""

from __future__ import annotations

import json
import os
import queue
import random
import sys
import threading
import time
from collections import Counter
from typing import Any

from .common import (
    SECRET_ID,
    SECRET_VALUE,
    TABLE,
    Figure,
    apply_environment,
    create_cache_table,
    ean13_codes,
    ensure_paths,
    fake_aws_environment,
    module_main,
    moto_server,
    stdout_to_devnull,
)
from .providers import FakeProviders
from .upstream import FakeLookupUpstream

TARGET_RATIO = 1.0
THREADS = 32
ZIPF_S = 1.1


def zipf_requests(codes: list[str], count: int, seed: int = 20261125) -> list[str]:
    weights = [1 / rank**ZIPF_S for rank in range(1, len(codes) + 1)]
    return random.Random(seed).choices(codes, weights=weights, k=count)


def environment(endpoint: str, upstream_url: str) -> dict[str, str]:
    return {
        **fake_aws_environment(endpoint),
        "CACHE_TABLE": TABLE,
        "SECRET_ID": SECRET_ID,
        "LOOKUP_API_URL": upstream_url,
        "LOOKUP_PROVIDERS": "baichuan",
        "POWERTOOLS_SERVICE_NAME": "lookup",
        "POWERTOOLS_METRICS_NAMESPACE": "BarcodeBackend",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def prepare_aws() -> None:
    import boto3

    create_cache_table(boto3.client("dynamodb"))
    boto3.client("secretsmanager").create_secret(
        Name=SECRET_ID, SecretString=json.dumps(SECRET_VALUE)
    )


def drive(requests: list[str], threads: int) -> tuple[Counter[str], float]:
    """Look every code up from `threads` threads, one LookupService each: (outcomes, s)."""
    ensure_paths()
    from barcode_service.errors import NotFound, ServiceError
    from barcode_service.settings import get_settings
    from barcode_service.wiring import build_lookup_service

    get_settings.cache_clear()
    work: queue.SimpleQueue[str] = queue.SimpleQueue()
    for code in requests:
        work.put(code)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        service = build_lookup_service(get_settings())
        seen: Counter[str] = Counter()
        start.wait()
        while True:
            try:
                code = work.get_nowait()
            except queue.Empty:
                break
            try:
                seen[service.lookup(code).source] += 1
            except NotFound:
                seen["not_found"] += 1
            except ServiceError as error:
                seen[f"error:{error.code}"] += 1
        with lock:
            outcomes.update(seen)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes, time.perf_counter() - started


def run(quick: bool = False) -> list[Figure]:
    return [one_provider(quick), three_providers(quick)]


def one_provider(quick: bool) -> Figure:
    total, distinct_pool = (2_000, 200) if quick else (10_000, 1_000)
    codes = ean13_codes(distinct_pool)
    requests = zipf_requests(codes, total)
    distinct = len(set(requests))
    saved = dict(os.environ)
    try:
        with moto_server() as endpoint, FakeLookupUpstream(latency=0.02) as upstream:
            apply_environment(environment(endpoint, upstream.url))
            prepare_aws()
            with stdout_to_devnull():
                outcomes, seconds = drive(requests, THREADS)
            calls = upstream.calls
    finally:
        os.environ.clear()
        os.environ.update(saved)
    upstream_calls = sum(calls.values())
    asked = len(calls)
    ratio = upstream_calls / max(1, asked)
    duplicated = {code: n for code, n in calls.items() if n > 1}
    notes: list[str] = [
        f"{total} requests in {seconds:.1f} s ({total / seconds:.0f}/s) from {THREADS} threads; "
        "answers: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
        f"{asked} of the {distinct} distinct codes reached the upstream; the others were only "
        "in requests the fleet limiter answered 429 rate_limited (an app retries them)",
    ]
    if duplicated:
        worst: list[Any] = sorted(duplicated.items(), key=lambda item: -item[1])[:3]
        notes.append(
            f"{len(duplicated)} codes were fetched more than once, e.g. "
            + ", ".join(f"{code} x{n}" for code, n in worst)
        )
    return Figure(
        "quota",
        "upstream calls per distinct code asked",
        f"{ratio:.3f} ({upstream_calls} calls for {asked} distinct codes asked, of {distinct}; "
        f"{total} requests, Zipf s={ZIPF_S})",
        f"= {TARGET_RATIO:.2f}",
        upstream_calls == asked,
        tuple(notes),
    )


def _off_knows(code: str) -> bool:
    return int(code[-2]) % 3 == 0


def _library_knows(code: str) -> bool:
    return int(code[-2]) % 2 == 0


def _knows(provider: str, code: str) -> bool:
    return _off_knows(code) if provider == "openfoodfacts" else _library_knows(code)


def expected_calls(codes: set[str]) -> Counter[str]:
    """Per provider: the distinct codes it has to be asked about (once each)."""
    expected: Counter[str] = Counter()
    for code in codes:
        if code.startswith("978"):
            expected["openlibrary"] += 1
            expected["baichuan"] += not _library_knows(code)
        else:
            expected["openfoodfacts"] += 1
            expected["baichuan"] += not _off_knows(code)
    return expected


def three_providers(quick: bool) -> Figure:
    total, food, books = (2_000, 180, 20) if quick else (10_000, 900, 100)
    codes = ean13_codes(food, "400") + ean13_codes(books, "978")
    requests = zipf_requests(codes, total, seed=20261201)
    distinct = set(requests)
    saved = dict(os.environ)
    try:
        with (
            moto_server() as endpoint,
            FakeLookupUpstream(latency=0.02) as upstream,
            FakeProviders(_knows, latency=0.02) as providers,
        ):
            apply_environment(
                {
                    **environment(endpoint, upstream.url),
                    **providers.environment(),
                    "LOOKUP_PROVIDERS": "openfoodfacts,openlibrary,baichuan",
                    # This benchmark counts duplicates, not rates: limits out of the way.
                    "OPENFOODFACTS_REQUESTS_PER_MINUTE": "6000000",
                    "OPENLIBRARY_REQUESTS_PER_MINUTE": "6000000",
                    "BAICHUAN_REQUESTS_PER_SECOND": "100000",
                }
            )
            prepare_aws()
            with stdout_to_devnull():
                outcomes, seconds = drive(requests, THREADS)
            calls: Counter[tuple[str, str]] = Counter(providers.calls)
            calls.update({("baichuan", code): n for code, n in upstream.calls.items()})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    expected = expected_calls(distinct)
    made: Counter[str] = Counter()
    for (provider, _), count in calls.items():
        made[provider] += count
    repeated = sum(1 for n in calls.values() if n > 1)
    needed, spent = sum(expected.values()), sum(made.values())
    per_provider = ", ".join(
        f"{name} {made[name]}/{expected[name]}"
        for name in ("openfoodfacts", "openlibrary", "baichuan")
    )
    return Figure(
        "quota",
        "provider calls per (code, provider) asked, three providers",
        f"{spent / needed:.3f} ({spent} calls for {needed} code-provider pairs, "
        f"{len(distinct)} distinct codes, {total} requests; {per_provider})",
        f"= {TARGET_RATIO:.2f}",
        made == expected and repeated == 0,
        (
            f"{total} requests in {seconds:.1f} s from {THREADS} threads; answers: "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
            f"{repeated} (code, provider) pairs asked more than once",
        ),
    )


if __name__ == "__main__":
    sys.exit(module_main(run))
