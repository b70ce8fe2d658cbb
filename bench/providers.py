"""Fake keyless providers on loopback: Open Food Facts and Open Library, counting calls.

Answers the real shapes (tests/support/upstreams.py bodies are not importable here,
so the few fields the router reads are spelled out): Open Food Facts API v2 found /
404 not found, and Open Library's Books API book / `{}`. Which codes each knows is a
function given by the benchmark. Every call is counted per code.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.upstream import LoopbackServer, send_json

OFF_PATH = "/off/api/v2/product/"
BOOKS_PATH = "/ol/api/books"


class FakeProviders(LoopbackServer):
    """`with FakeProviders(knows) as fake:`; `fake.calls[("openfoodfacts", code)]` counts."""

    def __init__(self, knows: Callable[[str, str], bool], *, latency: float = 0.0) -> None:
        self.knows = knows  # (provider, code) -> found?
        self.latency = latency
        self.calls: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        super().__init__()

    def environment(self) -> dict[str, str]:
        return {
            "OPENFOODFACTS_API_URL": self.base + "/off",
            "OPENLIBRARY_API_URL": self.base + "/ol",
        }

    def answer(self, path: str, query: str) -> tuple[int, dict[str, Any]]:
        if path.startswith(OFF_PATH):
            provider, code = "openfoodfacts", path[len(OFF_PATH) :]
        else:
            provider = "openlibrary"
            code = (parse_qs(query).get("bibkeys") or [""])[0].removeprefix("ISBN:")
        with self.lock:
            self.calls[(provider, code)] += 1
        if self.latency:
            time.sleep(self.latency)
        found = self.knows(provider, code)
        if provider == "openlibrary":
            return 200, ({f"ISBN:{code}": {"title": f"Book {code}"}} if found else {})
        if found:
            product = {"product_name": f"Food {code}", "brands": "Bench"}
            return 200, {"code": code, "status": 1, "product": product}
        return 404, {"code": code, "status": 0, "status_verbose": "product not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                status, body = fake.answer(split.path, split.query)
                send_json(self, status, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
