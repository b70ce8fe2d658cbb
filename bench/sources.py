"""More sources: the Open Food Facts family in one call, and UPCitemdb's daily allowance.

1. Calls per code for a beauty product, a pet food and a code no database knows, asked
   through the router (a counting limiter, no table) against a fake family on loopback
   with the real shapes: Open Food Facts answers `product_type=all` with a redirect to
   the sister instance that holds the product (Open Beauty Facts, Open Pet Food Facts),
   each instance answers its own products and a JSON 404 otherwise, every request
   after LATENCY. Side by side in one run:
   - one call: the `openfoodfacts` provider (the product);
   - the sister databases asked one by one: what main did when an operator listed
     `openfoodfacts,openbeautyfacts,openpetfoodfacts,openproductsfacts` (four providers,
     one request each, four limiter keys), rebuilt here as four plain reads;
   - main's default list (`openfoodfacts` alone, no `product_type`): one call, but a
     beauty product or a pet food is not found (the next provider, paid or not, is asked).
   Provider calls are limiter slots (what the family's 100 reads a minute counts); HTTP
   requests include the redirect. Times are medians of REPEATS with their spread.
2. UPCitemdb's trial allowance under load: the limiter benchmark's API threads and upload
   workers (each its own LookupService, as Lambda instances are; the workers with the
   uploads' provider list and a Pacer) look up distinct codes with only `upcitemdb`
   listed, against a fake trial that allows ALLOWANCE calls a day and answers
   EXCEED_LIMIT after (with its real headers: X-RateLimit-Remaining, -Reset), on a moto
   server in its own process. Side by side: our daily counter on (UPCITEMDB_DAILY_LIMIT =
   ALLOWANCE) and off (0: only the provider's own headers and refusals stop us). The
   target: 0 calls over the allowance.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .common import (
    Figure,
    Spread,
    apply_environment,
    ean13_codes,
    ensure_paths,
    module_main,
    moto_server,
    stdout_to_devnull,
)
from .limiter import API_THREADS, UPLOAD_WORKERS, api_and_uploads
from .quota import environment, prepare_aws
from .upstream import LoopbackServer, send_json

LATENCY = 0.02
REPEATS = 7
ALLOWANCE = 100
MAX_SECONDS = 120.0

BEAUTY = "3600541362345"  # Open Beauty Facts holds it
PET_FOOD = "7613035152342"  # Open Pet Food Facts holds it
UNKNOWN = "4006381333931"  # no database of the family holds it
HOLDS = {"/obf": BEAUTY, "/opff": PET_FOOD}
FAMILY = {"openfoodfacts": "/off", "openbeautyfacts": "/obf"}
FAMILY |= {"openpetfoodfacts": "/opff", "openproductsfacts": "/opf"}
UPC_RESET = 4_102_444_800  # X-RateLimit-Reset of the fake trial (a unix time)


class FakeSources(LoopbackServer):
    """The Open Food Facts family (four prefixes) and UPCitemdb's trial, counting."""

    def __init__(self, latency: float = LATENCY) -> None:
        self.latency = latency
        self.requests: Counter[str] = Counter()  # per instance prefix, and "upcitemdb"
        self.refused = 0  # UPCitemdb calls over its allowance (EXCEED_LIMIT answered)
        self.lock = threading.Lock()
        super().__init__()

    def environment(self) -> dict[str, str]:
        urls = {f"{name.upper()}_API_URL": self.base + p for name, p in FAMILY.items()}
        return {**urls, "UPCITEMDB_API_URL": self.base + "/upc"}

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.refused = 0

    def family(self, path: str, query: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        prefix, _, code = path.partition("/api/v2/product/")
        time.sleep(self.latency)
        with self.lock:
            self.requests[prefix] += 1
        holder = next((p for p, held in HOLDS.items() if held == code), None)
        if prefix == "/off" and holder is not None and "product_type=all" in query:
            return 302, {}, {"Location": f"{self.base}{holder}/api/v2/product/{code}?{query}"}
        if holder == prefix:
            kind = {"/obf": "beauty", "/opff": "petfood"}[prefix]
            product = {"code": code, "product_type": kind, "product_name": f"Bench {kind}"}
            return 200, {"code": code, "status": 1, "product": product}, {}
        return 404, {"code": code, "status": 0, "status_verbose": "product not found"}, {}

    def upcitemdb(self, query: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        upc = (parse_qs(query).get("upc") or [""])[0]
        with self.lock:
            self.requests["upcitemdb"] += 1
            used = self.requests["upcitemdb"]
            over = used > ALLOWANCE
            self.refused += over
        headers = {
            "X-RateLimit-Limit": str(ALLOWANCE),
            "X-RateLimit-Remaining": str(max(0, ALLOWANCE - used)),
            "X-RateLimit-Reset": str(UPC_RESET),
        }
        if over:
            body = {"code": "EXCEED_LIMIT", "message": "daily limit exceeded"}
            return 429, body, headers
        item = {"ean": upc, "title": f"Item {upc}", "brand": "Bench", "images": []}
        return 200, {"code": "OK", "total": 1, "offset": 0, "items": [item]}, headers

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                if split.path.startswith("/upc/"):
                    status, body, headers = fake.upcitemdb(split.query)
                else:
                    status, body, headers = fake.family(split.path, split.query)
                send_json(self, status, body, headers)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# --- 1. the family in one call ---------------------------------------------------------


class CountingLimiter:
    """A router limiter that lets every call through and counts the slots taken."""

    def __init__(self) -> None:
        self.slots: Counter[str] = Counter()

    def acquire(self, provider: str, limit: Any, max_wait: float) -> float:
        self.slots[provider] += 1
        return 0.0


class NoBlocks:
    def check(self, provider: str) -> None:
        return None


def one_database(name: str, base: str, session: Any) -> Any:
    """One database of the family as main asked it: a plain read on its own host."""
    from barcode_service.errors import UpstreamError
    from barcode_service.providers.base import ProviderNotFound, ProviderProduct, RateLimit
    from barcode_service.providers.openfoodfacts import FIELDS
    from barcode_service.transport import Reply, Request, RetryPolicy, exchange

    class OneDatabase:
        attribution = None
        limit = RateLimit(100, 60)

        def __init__(self) -> None:
            self.name = name

        def serves(self, gtin: Any) -> bool:
            return True

        def prepare(self) -> None:
            pass

        def quota_reset(self, now: Any) -> Any:
            return now

        def lookup(self, gtin: Any, deadline: float) -> Any:
            url = f"{base}/api/v2/product/{gtin.upstream_code}"
            request = Request(name, url, params={"fields": FIELDS}, accept=frozenset({200, 404}))
            body = exchange(session, request, RetryPolicy(), Reply.json, deadline=deadline)
            if not isinstance(body, dict):
                raise UpstreamError(f"{name} sent an unexpected body")
            if str(body.get("status")) == "1":
                return ProviderProduct(name=str(body["product"].get("product_name")))
            return ProviderNotFound()

    return OneDatabase()


def family_ways(fake: FakeSources) -> dict[str, Callable[[str], tuple[str, int]]]:
    """Each way to ask the family: code -> (who found it or "not found", slots taken)."""
    ensure_paths()
    from barcode_service.gtin import parse_gtin
    from barcode_service.router import Router
    from barcode_service.settings import load_settings
    from barcode_service.transport import new_session
    from barcode_service.wiring import build_providers

    settings = load_settings(fake.environment())
    session = new_session()
    one_call = build_providers(["openfoodfacts"], settings, lambda: NotImplemented, session)
    one_by_one = [one_database(n, fake.base + p, session) for n, p in FAMILY.items()]
    main_default = one_by_one[:1]

    def way(providers: list[Any]) -> Callable[[str], tuple[str, int]]:
        def ask(code: str) -> tuple[str, int]:
            limiter = CountingLimiter()
            names = [p.name for p in providers]
            router = Router(names, lambda: providers, lambda: limiter, max_wait=0, deadline=15)
            route = router.route(parse_gtin(code), NoBlocks())
            found = route.found
            who = "not found"
            if found is not None and found.product is not None:
                who = str(found.product.details.get("database", found.provider))
            return who, sum(limiter.slots.values())

        return ask

    return {
        "one call": way(one_call),
        "one by one": way(one_by_one),
        "main default": way(main_default),
    }


def family_figure(quick: bool) -> Figure:
    repeats = 3 if quick else REPEATS
    codes = {"beauty product": BEAUTY, "pet food": PET_FOOD, "unknown code": UNKNOWN}
    rows: dict[tuple[str, str], tuple[str, int, int]] = {}
    times: dict[tuple[str, str], list[float]] = {}
    with FakeSources() as fake:
        ways = family_ways(fake)
        for _ in range(repeats):
            for label, code in codes.items():
                for way, ask in ways.items():  # side by side, in the same round
                    fake.reset()
                    started = time.perf_counter()
                    who, slots = ask(code)
                    times.setdefault((label, way), []).append(time.perf_counter() - started)
                    rows[(label, way)] = (who, slots, sum(fake.requests.values()))
    notes = []
    for label in codes:
        parts = []
        for way in ("one call", "one by one", "main default"):
            who, slots, requests = rows[(label, way)]
            ms = Spread(tuple(t * 1000 for t in times[(label, way)])).text("{:.0f}", " ms")
            parts.append(f"{way}: {slots} call(s), {requests} request(s), {who}, {ms}")
        notes.append(f"{label}: " + "; ".join(parts))
    slowdown = [
        statistics.median(times[(label, "one by one")])
        / statistics.median(times[(label, "one call")])
        for label in codes
    ]
    one_request = statistics.median(times[("unknown code", "one call")])
    calls = {label: rows[(label, "one call")][1] for label in codes}
    found = rows[("beauty product", "one call")][0] == "openbeautyfacts"
    found = found and rows[("pet food", "one call")][0] == "openpetfoodfacts"
    ok = found and all(n == 1 for n in calls.values())
    old = [rows[(label, "one by one")][1] for label in codes]
    return Figure(
        "sources",
        "Open Food Facts family: calls per code",
        f"1 call each (beauty, pet food, unknown) vs {old[0]}/{old[1]}/{old[2]} asked one by "
        f"one; one by one takes {slowdown[0]:.1f}x/{slowdown[1]:.1f}x/{slowdown[2]:.1f}x the "
        f"time (one request about {one_request * 1000:.0f} ms here)",
        "1 call per code, beauty and pet food found",
        ok,
        tuple(notes),
    )


# --- 2. UPCitemdb's daily allowance under load -------------------------------------------


def drive_allowance(codes: int) -> Counter[str]:
    """API threads and upload workers on UPCitemdb until `codes` distinct codes are
    looked up (at most MAX_SECONDS): answers by kind."""
    ensure_paths()
    from barcode_service.settings import get_settings
    from barcode_service.wiring import build_lookup_service

    get_settings.cache_clear()
    settings = get_settings()

    def service(uploads: bool) -> Any:
        return build_lookup_service(settings, uploads=uploads)

    return api_and_uploads(MAX_SECONDS, service, ean13_codes(codes, "0036"))  # US UPC-As


def measure_allowance(codes: int, daily: int) -> tuple[int, int, Counter[str]]:
    """(calls UPCitemdb received, calls over its allowance, answers) with our daily cap."""
    saved = dict(os.environ)
    try:
        with moto_server() as endpoint, FakeSources(latency=0.01) as fake:
            apply_environment(
                {
                    **environment(endpoint, "http://127.0.0.1:9/unused"),
                    **fake.environment(),
                    "LOOKUP_PROVIDERS": "upcitemdb",
                    "UPLOAD_LOOKUP_PROVIDERS": "upcitemdb",
                    "UPCITEMDB_DAILY_LIMIT": str(daily),
                    "UPCITEMDB_REQUESTS_PER_MINUTE": "6000",
                    "WORKER_LOOKUPS_PER_SECOND": "20",
                    "PROVIDER_WAIT_SECONDS": "2",
                }
            )
            prepare_aws()
            with stdout_to_devnull():
                outcomes = drive_allowance(codes)
            return fake.requests["upcitemdb"], fake.refused, outcomes
    finally:
        os.environ.clear()
        os.environ.update(saved)


def allowance_figure(quick: bool) -> Figure:
    codes = (2 if quick else 4) * ALLOWANCE
    calls, over, answers = measure_allowance(codes, ALLOWANCE)
    off_calls, off_over, off_answers = measure_allowance(codes, 0)

    def listed(outcomes: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))

    return Figure(
        "sources",
        "UPCitemdb trial: calls over its daily allowance, API + uploads at once",
        f"{over} over ({calls} calls for an allowance of {ALLOWANCE}); without our daily "
        f"counter (its headers and refusals only): {off_over} over ({off_calls} calls)",
        "0 over",
        over == 0 and calls <= ALLOWANCE,
        (
            f"{API_THREADS} API threads + {UPLOAD_WORKERS} upload workers, {codes} distinct "
            "codes, moto server, fake trial with its rate-limit headers",
            "daily counter on, answers: " + listed(answers),
            "daily counter off, answers: " + listed(off_answers),
        ),
    )


def run(quick: bool = False) -> list[Figure]:
    return [family_figure(quick), allowance_figure(quick)]


if __name__ == "__main__":
    sys.exit(module_main(run))
