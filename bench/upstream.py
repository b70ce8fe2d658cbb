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
from typing import Any, Self
from urllib.parse import parse_qs


class LoopbackServer:
    """A threaded HTTP server on a free loopback port, served while `with` lasts.

    Subclasses set their state, then call `super().__init__()`, and give `_handler()`.
    """

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def __enter__(self) -> Self:
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


def send_json(
    handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    """Write one JSON answer with its length (keep-alive safe)."""
    payload = json.dumps(body).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(payload)


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


class FakeLookupUpstream(LoopbackServer):
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
        super().__init__()

    @property
    def url(self) -> str:
        return self.base + "/api/api_query.php"

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
                headers = {"Retry-After": "1"} if status == 429 else None
                send_json(self, status, body or {"error": "rate limited"}, headers)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
