"""The upstream APIs and product providers as one tiny HTTP server on loopback.

They answer in the documented shapes (docs: upstreams.md; bodies from
tests/support/upstreams.py): GuGuData's PascalCase success with an https `Url`,
Baichuan's found / not found / daily quota used up, chosen by `code_sn`, and the
keyless providers: Open Food Facts (found, 404 not found, 200 with status 0, 429,
503, slow, garbage, chosen by barcode; asked with `product_type=all`, a redirect to
its sister instance for a beauty product or a pet food, which answer from their own
paths), Open Library (a book, or `{}`) and UPCitemdb's trial (found, not found,
EXCEED_LIMIT, TOO_FAST, with its rate-limit headers), and Open Food Facts' write API
(fields saved, refused, a bad account's 403 page, 503 a given number of times). Every
call is counted per upstream, so tests can tell a cached answer from a provider's.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.upstreams import (
    OFF_BAD_LOGIN_PAGE,
    baichuan_failure,
    baichuan_found,
    baichuan_not_found,
    gugudata_success,
    obf_found,
    off_found,
    off_not_found,
    off_write_accepted,
    off_write_refused,
    openlibrary_found,
    opff_found,
    upcitemdb_error,
    upcitemdb_found,
    upcitemdb_headers,
    upcitemdb_not_found,
)

APPKEY = "fake-gugudata-appkey"
LOOKUP_API_KEY = "fake-baichuan-api-key"
LOOKUP_SECRET_KEY = "fake-baichuan-secret-key"

GENERATE_PATH = "/barcode/barcode"
LOOKUP_PATH = "/api/api_query.php"
OFF_PREFIX = "/off"  # base URL of the fake Open Food Facts
OFF_WRITE_PATH = OFF_PREFIX + "/cgi/product_jqm2.pl"
OFF_USER_ID, OFF_PASSWORD = "e2e-app-bot", "e2e-off-password"
OPENLIBRARY_PREFIX = "/openlibrary"
OPENLIBRARY_PATH = OPENLIBRARY_PREFIX + "/api/books"
# The sister instances Open Food Facts redirects to (product_type=all), by prefix.
SISTERS = {"/obf": "openbeautyfacts", "/opff": "openpetfoodfacts", "/opf": "openproductsfacts"}
UPCITEMDB_PREFIX = "/upcitemdb"
UPCITEMDB_TRIAL_PATH = UPCITEMDB_PREFIX + "/prod/trial/lookup"

# Open Food Facts answers, by barcode (anything else: a 404 "product not found").
OFF_FOUND_CODE = "3017620422003"
OFF_OLD_NOT_FOUND_CODE = "4006381333900"  # 200 with status 0, as older servers answer
OFF_RATE_LIMITED_CODE = "5000000000012"  # 429 with Retry-After
OFF_DOWN_CODE = "5000000000029"  # 503
OFF_SLOW_CODE = "5000000000036"  # answers after the stack's read timeout
OFF_GARBAGE_CODE = "5000000000043"  # an HTML page with status 200
OFF_SLOW_SECONDS = 3.0
BOOK_ISBN = "9780140328721"  # Open Library knows it; Open Food Facts is never asked
BEAUTY_CODE = "3600541362345"  # Open Beauty Facts holds it: a redirect, then the product
PET_FOOD_CODE = "7613035152342"  # Open Pet Food Facts holds it

# UPCitemdb's trial answers, by UPC (anything else: found nowhere, `total: 0`).
US_HOUSEHOLD_CODE = "044600015941"  # unknown to Open Food Facts, UPCitemdb knows it
UPC_QUOTA_CODE = "012000161155"  # EXCEED_LIMIT: the day's allowance is used up
UPC_TOO_FAST_CODE = "028400090858"  # TOO_FAST with Retry-After 1
UPC_RESET = 4_102_444_800  # X-RateLimit-Reset of every answer (2100-01-01, a unix time)

FOUND_CODE = "6901234567892"
NOT_FOUND_CODE = "6900000000014"
QUOTA_CODE = "6900000000021"  # the upstream says today's queries are used up
MSG_DAILY_USED_UP = "今日查询次数已用完"
MSG_BAD_KEY = "API Key或Secret Key错误"


def image_url(content: str) -> str:
    """The CDN URL the fake generation upstream hands out for `content`."""
    return f"https://cdn.example.com/barcodes/{content}.png"


@dataclass
class FakeUpstreams:
    """Both fakes on one loopback server; `calls` counts requests per upstream."""

    found: dict[str, str] = field(default_factory=lambda: {FOUND_CODE: "Test Product"})
    quota_codes: set[str] = field(default_factory=lambda: {QUOTA_CODE})
    # Open Food Facts' write API: codes it refuses, and 503s to answer a code first.
    write_refused: set[str] = field(default_factory=set)
    write_failures: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def generate_url(self) -> str:
        return self.base_url + GENERATE_PATH

    @property
    def lookup_url(self) -> str:
        return self.base_url + LOOKUP_PATH

    def environment(self) -> dict[str, str]:
        """What the local stack needs to talk to these fakes with valid credentials."""
        return {
            "GENERATE_API_URL": self.generate_url,
            "LOOKUP_API_URL": self.lookup_url,
            "OPENFOODFACTS_API_URL": self.base_url + OFF_PREFIX,
            **{f"{name.upper()}_API_URL": self.base_url + p for p, name in SISTERS.items()},
            "OPENLIBRARY_API_URL": self.base_url + OPENLIBRARY_PREFIX,
            "UPCITEMDB_API_URL": self.base_url + UPCITEMDB_PREFIX,
            "LOOKUP_PROVIDERS": "openfoodfacts,openlibrary,community,baichuan",
            # The slow fake provider answers after this; nothing else is near it.
            "UPSTREAM_READ_TIMEOUT": "2",
            # A failing provider is left alone this long (short, so scenarios stay apart).
            "PROVIDER_OUTAGE_SECONDS": "1",
            "GENERATE_APPKEY": APPKEY,
            "LOOKUP_API_KEY": LOOKUP_API_KEY,
            "LOOKUP_SECRET_KEY": LOOKUP_SECRET_KEY,
            "OPENFOODFACTS_WRITE_URL": self.base_url + OFF_PREFIX,
            "OPENFOODFACTS_USER_ID": OFF_USER_ID,
            "OPENFOODFACTS_PASSWORD": OFF_PASSWORD,
        }

    def start(self) -> FakeUpstreams:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def record(self, upstream: str, params: dict[str, str]) -> None:
        with self._lock:
            self.calls[upstream] += 1
            self.requests.append((upstream, params))

    # -- answers ------------------------------------------------------------------

    def generate(self, params: dict[str, str]) -> tuple[int, Any]:
        if params.get("appkey") != APPKEY:
            return 401, {"DataStatus": {"StatusCode": 104, "StatusDescription": "APPKEY error"}}
        kind, content = params.get("type", ""), params.get("content", "")
        return 200, gugudata_success(f"{kind}:{content}", url=image_url(content))

    def lookup(self, params: dict[str, str]) -> tuple[int, Any]:
        if (params.get("api_key"), params.get("secret_key")) != (LOOKUP_API_KEY, LOOKUP_SECRET_KEY):
            return 200, baichuan_failure(MSG_BAD_KEY)
        code = params.get("code_sn", "")
        if code in self.quota_codes:
            return 200, baichuan_failure(MSG_DAILY_USED_UP)
        if code in self.found:
            return 200, baichuan_found(code, name=self.found[code])
        return 200, baichuan_not_found()

    def openfoodfacts(self, code: str) -> tuple[int, Any, dict[str, str]]:
        if code == OFF_FOUND_CODE:
            return 200, off_found(code), {}
        if code == OFF_OLD_NOT_FOUND_CODE:
            return 200, off_not_found(code), {}
        if code == OFF_RATE_LIMITED_CODE:
            return 429, {"status": 0, "status_verbose": "too many requests"}, {"Retry-After": "1"}
        if code == OFF_DOWN_CODE:
            return 503, "<html><body>Service Unavailable</body></html>", {}
        if code == OFF_SLOW_CODE:
            time.sleep(OFF_SLOW_SECONDS)
            return 200, off_found(code), {}
        if code == OFF_GARBAGE_CODE:
            return 200, "<!DOCTYPE html><html><body>Oops</body></html>", {}
        return 404, off_not_found(code), {}

    def open_facts(self, prefix: str, code: str, query: str) -> tuple[int, Any, dict[str, str]]:
        """Open Food Facts asked with product_type=all: a sister's product is a redirect to
        the same read on its instance (`prefix`), which answers it."""
        sister = {BEAUTY_CODE: "/obf", PET_FOOD_CODE: "/opff"}.get(code)
        if prefix == OFF_PREFIX and sister is not None and "product_type=all" in query:
            location = f"{self.base_url}{sister}/api/v2/product/{code}?{query}"
            return 302, "", {"Location": location}
        if prefix == "/obf" and code == BEAUTY_CODE:
            return 200, obf_found(code), {}
        if prefix == "/opff" and code == PET_FOOD_CODE:
            return 200, opff_found(code), {}
        if prefix == OFF_PREFIX:
            return self.openfoodfacts(code)
        return 404, off_not_found(code), {}

    def upcitemdb(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        upc = params.get("upc", "").removeprefix("0")
        headers = upcitemdb_headers(100 - self.calls["upcitemdb"], UPC_RESET)
        if upc == UPC_QUOTA_CODE:
            return 429, upcitemdb_error("EXCEED_LIMIT"), {**headers, "Retry-After": "3600"}
        if upc == UPC_TOO_FAST_CODE:
            return 429, upcitemdb_error("TOO_FAST"), {**headers, "Retry-After": "1"}
        if upc == US_HOUSEHOLD_CODE:
            return 200, upcitemdb_found(upc), headers
        return 200, upcitemdb_not_found(), headers

    def openfoodfacts_write(self, params: dict[str, str]) -> tuple[int, Any]:
        if (params.get("user_id"), params.get("password")) != (OFF_USER_ID, OFF_PASSWORD):
            return 403, OFF_BAD_LOGIN_PAGE
        code = params.get("code", "")
        if code in self.write_refused:
            return 200, off_write_refused("Edit against edit rules")
        with self._lock:
            if self.write_failures[code] > 0:
                self.write_failures[code] -= 1
                return 503, "<html><body>Service Unavailable</body></html>"
        return 200, off_write_accepted()

    def openlibrary(self, params: dict[str, str]) -> tuple[int, Any]:
        key = params.get("bibkeys", "")
        if key == f"ISBN:{BOOK_ISBN}":
            return 200, openlibrary_found(BOOK_ISBN)
        return 200, {}


def _form(content_type: str, body: bytes) -> dict[str, str]:
    """Fields of a urlencoded or multipart body (the upstreams accept both)."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                fields[name] = part.get_content().strip()
        return fields
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _handler(fakes: FakeUpstreams) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            split = urlsplit(self.path)
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                params.update(_form(self.headers.get("Content-Type", ""), self.rfile.read(length)))
            headers: dict[str, str] = {}
            if split.path == GENERATE_PATH:
                fakes.record("generate", params)
                status, body = fakes.generate(params)
            elif split.path == LOOKUP_PATH:
                fakes.record("lookup", params)
                status, body = fakes.lookup(params)
            elif "/api/v2/product/" in split.path:
                prefix, _, code = split.path.partition("/api/v2/product/")
                code = code.removesuffix(".json")
                fakes.record(SISTERS.get(prefix, "openfoodfacts"), {**params, "code": code})
                status, body, headers = fakes.open_facts(prefix, code, split.query)
            elif split.path == UPCITEMDB_TRIAL_PATH:
                fakes.record("upcitemdb", params)
                status, body, headers = fakes.upcitemdb(params)
            elif split.path == OFF_WRITE_PATH:
                fakes.record("openfoodfacts_write", params)
                status, body = fakes.openfoodfacts_write(params)
            elif split.path == OPENLIBRARY_PATH:
                fakes.record("openlibrary", params)
                status, body = fakes.openlibrary(params)
            else:
                status, body = 404, {"error": "no such path"}
            if isinstance(body, str):  # an HTML page, or the empty body of a redirect
                data, kind = body.encode("utf-8"), "text/html; charset=utf-8"
            else:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                kind = "application/json; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running() -> Iterator[FakeUpstreams]:
    """Both fakes, started for the duration of a `with` block."""
    fakes = FakeUpstreams().start()
    try:
        yield fakes
    finally:
        fakes.stop()
