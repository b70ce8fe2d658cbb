"""A misbehaving upstream on loopback: each request gets the next scripted fault.

Real sockets, so the clients' timeouts, retries and error mapping run for real:
slow headers, slow (dripping) bodies, connection resets, truncated bodies, 5xx
bursts, 429s, HTML pages. Sleeps end early when the server stops, so a test that
fails never leaves a thread sleeping for long.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Action = Callable[["FaultHandler"], None]


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]


def respond(
    status: int = 200,
    body: bytes | str | dict[str, Any] | list[Any] = b"",
    headers: dict[str, str] | None = None,
    *,
    content_type: str = "application/json; charset=utf-8",
) -> Action:
    """A complete response."""
    if isinstance(body, dict | list):
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    else:
        data = body.encode("utf-8") if isinstance(body, str) else body

    def act(handler: FaultHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    return act


def html(status: int = 200) -> Action:
    page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    return respond(status, page, content_type="text/html")


def sleep_then(seconds: float, then: Action) -> Action:
    """Say nothing for `seconds` (slow headers), then act."""

    def act(handler: FaultHandler) -> None:
        if not handler.fault_server.stopped.wait(seconds):
            then(handler)

    return act


def reset() -> Action:
    """Close the connection with a TCP RST after reading the request."""

    def act(handler: FaultHandler) -> None:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
        handler.close_connection = True

    return act


def hang_up() -> Action:
    """Close the connection without answering (an empty reply)."""

    def act(handler: FaultHandler) -> None:
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    return act


def truncated(
    status: int = 200, body: str = '{"code": 1, "msg": "查询成功", "data": {"code_'
) -> Action:
    """Announce more bytes than are sent, then close (the connection dies mid-body)."""
    data = body.encode("utf-8")

    def act(handler: FaultHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data) + 500))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    return act


def drip(body: bytes | str | dict[str, Any], interval: float, status: int = 200) -> Action:
    """Headers at once, then the body one byte every `interval` s (each gap below any
    read timeout, so only a total deadline can stop it)."""
    if isinstance(body, dict):
        data = json.dumps(body).encode("utf-8")
    else:
        data = body.encode("utf-8") if isinstance(body, str) else body

    def act(handler: FaultHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.flush()
        for index in range(len(data)):
            if handler.fault_server.stopped.wait(interval):
                return
            try:
                handler.wfile.write(data[index : index + 1])
                handler.wfile.flush()
            except OSError:  # the client gave up: that is the point
                return

    return act


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.script: list[Action] = []
        self.default: Action = respond(404, {"error": "no script"})
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def start(self) -> FaultServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.shutdown()
        self.server_close()

    def plan(self, *actions: Action, then: Action | None = None) -> None:
        """Answer the next requests with `actions` in order, then with `then` forever."""
        with self.lock:
            self.script = list(actions)
            if then is not None:
                self.default = then

    def always(self, action: Action) -> None:
        self.plan(then=action)

    def next_action(self, request: Request) -> Action:
        with self.lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else self.default

    @property
    def count(self) -> int:
        return len(self.requests)


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    @property
    def fault_server(self) -> FaultServer:
        return self.server

    def _serve(self) -> None:
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            data = json.loads(raw)
            params.update({k: str(v) for k, v in data.items()} if isinstance(data, dict) else {})
        elif raw:
            params.update(dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)))
        request = Request(self.command, split.path, params)
        started = time.monotonic()
        try:
            self.server.next_action(request)(self)
        except OSError:
            pass  # the client hung up first
        finally:
            request.params["_seconds"] = f"{time.monotonic() - started:.3f}"

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Timed:
    """What a handler call returned and how long it took."""

    status: int
    headers: dict[str, str]
    body: Any
    seconds: float
    raw: dict[str, Any] = field(default_factory=dict)
