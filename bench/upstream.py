"""A fake Baichuan lookup upstream on loopback that counts calls and can enforce a rate.

Answers the documented form POST (`api_key`, `secret_key`, `code_sn`) with a found
product after `latency` seconds. With `rate` set, a token bucket (`rate` per second,
`burst` deep) admits requests; the others get HTTP 429 and count as violations.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class FakeLookupUpstream:
    """`with FakeLookupUpstream() as fake:` serves on `fake.url` until the block ends."""

    def __init__(
        self, *, latency: float = 0.0, rate: float | None = None, burst: float | None = None
    ) -> None:
        self.latency = latency
        self.bucket = TokenBucket(rate, burst or rate) if rate else None
        self.calls: Counter[str] = Counter()
        self.accepted = 0
        self.violations = 0
        self.first_call: float | None = None
        self.last_call: float | None = None
        self.accepted_at: list[float] = []  # monotonic time of each admitted call
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/api_query.php"

    def __enter__(self) -> FakeLookupUpstream:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, code: str) -> tuple[int, dict[str, Any] | None]:
        now = time.monotonic()
        with self.lock:
            self.calls[code] += 1
            self.first_call = self.first_call or now
            self.last_call = now
        if self.bucket is not None and not self.bucket.take():
            with self.lock:
                self.violations += 1
            return 429, None
        with self.lock:
            self.accepted += 1
            self.accepted_at.append(now)
        if self.latency:
            time.sleep(self.latency)
        data = {
            "code_sn": code,
            "code_name": f"Product {code}",
            "code_company": "Bench Foods",
            "code_price": "9.90",
            "code_country": "中国",
        }
        return 200, {"code": 1, "msg": "查询成功", "data": data}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8"))
                status, body = fake.answer((form.get("code_sn") or [""])[0])
                payload = json.dumps(body or {"error": "rate limited"}).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
