"""Fleet-wide provider limit: API traffic and an upload run at once stay within it.

Baichuan limited to RATE calls per second with a bucket BURST deep
(BAICHUAN_REQUESTS_PER_SECOND, BAICHUAN_BURST: the lookup routes' LookupRateLimit and
LookupBurstLimit, a token bucket as API Gateway's throttle is). At the same time, 8 API
threads (each its own LookupService, as Lambda instances are) look up distinct codes as
fast as they can, and 5 upload workers (build_lookup_service with the upload settings,
paced by uploads.pacing.Pacer at WORKER_LOOKUPS_PER_SECOND = RATE/5 each) do the same.
The fake Baichuan records when each call arrives; a violation is a call that bucket
refuses (it starts full). The busiest one-second window is reported beside it. Run side
by side with the limiter on (the product) and off (the per-worker pacing only), against
a moto server in its own process.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from .common import (
    Figure,
    apply_environment,
    ean13_codes,
    ensure_paths,
    module_main,
    moto_server,
    stdout_to_devnull,
)
from .quota import environment, prepare_aws
from .upstream import FakeLookupUpstream

RATE = 10.0
BURST = 5
API_THREADS = 8
UPLOAD_WORKERS = 5


def bucket_violations(times: list[float], rate: float, burst: int) -> int:
    """Calls a token bucket `burst` deep, refilled at `rate`, full at the start, refuses."""
    tokens, last, refused = float(burst), None, 0
    for at in sorted(times):
        if last is not None:
            tokens = min(burst, tokens + (at - last) * rate)
        last = at
        if tokens >= 1:
            tokens -= 1
        else:
            refused += 1
    return refused


def window_violations(times: list[float], rate: float, window: float = 1.0) -> tuple[int, int]:
    """(windows over the limit, most calls in one window), windows starting at each call."""
    times = sorted(times)
    worst, over, end = 0, 0, 0
    for start, at in enumerate(times):
        while end < len(times) and times[end] < at + window:
            end += 1
        count = end - start
        worst = max(worst, count)
        over += count > rate * window
    return over, worst


def drive(seconds: float, limiter_on: bool) -> Counter[str]:
    """API threads and upload workers against Baichuan for `seconds`: answers by kind."""
    ensure_paths()
    from barcode_service.lookup import LookupService
    from barcode_service.router import Router
    from barcode_service.settings import get_settings
    from barcode_service.wiring import build_lookup_service

    class NoLimiter:
        def acquire(self, provider: str, limit: Any, max_wait: float) -> float:
            return 0.0

    get_settings.cache_clear()
    settings = get_settings()

    def service(uploads: bool) -> LookupService:
        real = build_lookup_service(settings, uploads=uploads)
        if limiter_on:
            return real
        router = Router(
            real.router.names,
            lambda: real.router.providers,
            NoLimiter,
            max_wait=0,
            deadline=settings.upstream_deadline,
        )
        return LookupService(real.policy, real.store, router, real.health)

    return api_and_uploads(seconds, service, ean13_codes(200_000, "400"))


def api_and_uploads(
    seconds: float, service: Callable[[bool], Any], codes: list[str]
) -> Counter[str]:
    """API_THREADS API threads and UPLOAD_WORKERS upload workers, each with its own
    `service(uploads)` (as Lambda instances have), the workers paced at
    WORKER_LOOKUPS_PER_SECOND, look up the next of `codes` as fast as they may for
    `seconds` (or until the codes run out): answers by kind."""
    from barcode_service.errors import NotFound, ServiceError
    from barcode_service.settings import get_settings
    from barcode_service.uploads.pacing import Pacer

    per_second = get_settings().worker_lookups_per_second
    next_codes = iter(codes)
    lock = threading.Lock()
    outcomes: Counter[str] = Counter()
    stop = time.monotonic() + seconds
    start = threading.Barrier(API_THREADS + UPLOAD_WORKERS)

    def loop(uploads: bool) -> None:
        lookups = service(uploads)
        pacer = Pacer(per_second) if uploads else None
        who = "upload" if uploads else "api"
        seen: Counter[str] = Counter()
        start.wait()
        while time.monotonic() < stop:
            with lock:
                code = next(next_codes, None)
            if code is None:
                break
            try:
                lookups.lookup(code, pace=pacer)
                seen[f"{who} found"] += 1
            except NotFound:
                seen[f"{who} not_found"] += 1
            except ServiceError as error:
                seen[f"{who} {error.code}"] += 1
        with lock:
            outcomes.update(seen)

    threads = [threading.Thread(target=loop, args=(False,)) for _ in range(API_THREADS)]
    threads += [threading.Thread(target=loop, args=(True,)) for _ in range(UPLOAD_WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def measure(seconds: float, limiter_on: bool) -> tuple[list[float], Counter[str]]:
    saved = dict(os.environ)
    try:
        with moto_server() as endpoint, FakeLookupUpstream(latency=0.02) as upstream:
            apply_environment(
                {
                    **environment(endpoint, upstream.url),
                    "UPLOAD_LOOKUP_PROVIDERS": "baichuan",
                    "BAICHUAN_REQUESTS_PER_SECOND": str(RATE),
                    "BAICHUAN_BURST": str(BURST),
                    "WORKER_LOOKUPS_PER_SECOND": str(RATE / UPLOAD_WORKERS),
                    "PROVIDER_WAIT_SECONDS": "2",
                }
            )
            prepare_aws()
            with stdout_to_devnull():
                outcomes = drive(seconds, limiter_on)
            return list(upstream.accepted_at), outcomes
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run(quick: bool = False) -> list[Figure]:
    seconds = 4.0 if quick else 12.0
    on_times, on_outcomes = measure(seconds, limiter_on=True)
    off_times, off_outcomes = measure(seconds, limiter_on=False)
    on_over, off_over = (bucket_violations(t, RATE, BURST) for t in (on_times, off_times))
    on_worst, off_worst = (window_violations(t, RATE)[1] for t in (on_times, off_times))
    span = (max(on_times) - min(on_times)) if len(on_times) > 1 else 0.0
    achieved = (len(on_times) - 1) / span if span else 0.0

    def answers(outcomes: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))

    return [
        Figure(
            "limiter",
            "Baichuan calls over its limit, API + upload at once",
            f"{on_over} violations (calls a {RATE:.0f}/s bucket {BURST} deep refuses), at most "
            f"{on_worst} calls in a second; {len(on_times)} calls in {seconds:.0f} s = "
            f"{achieved:.2f}/s ({achieved / RATE:.2f} of the limit); limiter off: {off_over} "
            f"refused, up to {off_worst} calls in a second ({off_worst / RATE:.1f}x the rate)",
            "0 violations",
            on_over == 0,
            (
                f"{API_THREADS} API threads + {UPLOAD_WORKERS} upload workers at "
                f"{RATE / UPLOAD_WORKERS:.0f}/s each, {seconds:.0f} s, moto server",
                "limiter on, answers: " + answers(on_outcomes),
                "limiter off, answers: " + answers(off_outcomes),
            ),
        )
    ]


if __name__ == "__main__":
    sys.exit(module_main(run))
