"""The local gateway's HTTP server against requests no client should send (issue 22, item 6).

Before: a bad `Content-Length` dropped the connection with a traceback; a bare request
line (`GET /v1/health`) got an HTTP/0.9 answer (a body, no status line); a URL or a
header line over 64 KiB got http.server's HTML 414/431 pages; and the client's `Host`
went into every link. Now each is the API's own problem+json (the template's
DEFAULT_4XX shape, or REQUEST_TOO_LARGE), and links name the gateway's own address.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.gateway import Gateway, api_configs, api_routes, serve
from local.lambdas import function_specs
from local.resources import register_placeholders
from local.template import Resolver, Template

ROOT = Path(__file__).resolve().parents[2]
KEY = "hostile-http-key"


class Recording:
    """Stands in for a function: records events, answers 200."""

    load_error = None

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    resolver = Resolver(Template.load(ROOT / "template.yaml"))
    register_placeholders(resolver)
    specs = function_specs(resolver)
    apis = api_configs(resolver)
    functions = {logical_id: Recording() for logical_id in specs}
    return Gateway(
        api_routes(resolver, specs, apis),
        apis,
        functions,  # type: ignore[arg-type]  # invoke() is all the gateway calls
        {KEY: "key-id"},
    )


@pytest.fixture(scope="module")
def address(gateway: Gateway) -> Iterator[tuple[str, int]]:
    server = serve(gateway, "127.0.0.1", 0)
    gateway.domain = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ("127.0.0.1", server.server_port)
    server.shutdown()
    server.server_close()


def exchange(address: tuple[str, int], raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes: (status line, headers, body)."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def assert_problem(answer: tuple[str, dict[str, str], bytes], status: int) -> dict[str, Any]:
    status_line, headers, body = answer
    assert status_line.startswith(f"HTTP/1.1 {status} "), status_line
    assert headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = json.loads(body)
    assert problem["status"] == status
    assert problem["type"].startswith("https://barcode-backend.dev/problems/")
    return problem


@pytest.mark.parametrize("length", ["abc", "-1", "1, 2", "+5", "9" * 30])
def test_a_bad_content_length_is_a_400_problem_without_a_traceback(
    address: tuple[str, int], length: str, capfd: pytest.CaptureFixture[str]
) -> None:
    raw = (
        f"POST /v1/products/lookup HTTP/1.1\r\nHost: x\r\nx-api-key: {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{}}"
    ).encode()
    problem = assert_problem(exchange(address, raw), 400)
    assert "Content-Length" in problem["detail"]
    assert "Traceback" not in capfd.readouterr().err


def test_a_bad_chunk_size_is_a_400_problem(address: tuple[str, int]) -> None:
    raw = (
        b"POST /v1/products/lookup HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n"
    )
    assert_problem(exchange(address, raw), 400)


def test_a_body_over_the_limit_is_refused_unread(address: tuple[str, int]) -> None:
    raw = b"POST /v1/products/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{}"
    problem = assert_problem(exchange(address, raw), 413)
    assert problem["code"] == "payload_too_large"


@pytest.mark.parametrize("line", ["GET /v1/health", "POST /v1/products/lookup", "GET"])
def test_a_request_line_without_a_version_gets_an_http_1_1_problem(
    address: tuple[str, int], line: str
) -> None:
    assert_problem(exchange(address, f"{line}\r\n\r\n".encode()), 400)


def test_an_oversized_url_is_a_414_problem(address: tuple[str, int]) -> None:
    raw = f"GET /v1/products/{'1' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    assert_problem(exchange(address, raw), 414)


@pytest.mark.parametrize(
    "headers",
    ["X-Big: " + "a" * 70_000 + "\r\n", "".join(f"X-H{n}: v\r\n" for n in range(150))],
    ids=["a-long-header", "too-many-headers"],
)
def test_oversized_headers_are_a_431_problem(address: tuple[str, int], headers: str) -> None:
    raw = f"GET /v1/health HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode()
    assert_problem(exchange(address, raw), 431)


def test_the_host_header_never_becomes_the_domain(
    address: tuple[str, int], gateway: Gateway
) -> None:
    raw = (
        f"GET /v1/uploads/0123456789abcdef0123456789abcdef HTTP/1.1\r\n"
        f"Host: evil.example\r\nx-api-key: {KEY}\r\nConnection: close\r\n\r\n"
    ).encode()
    status_line, _, _ = exchange(address, raw)
    assert status_line.startswith("HTTP/1.1 200")
    uploads = gateway.functions["UploadsFunction"]
    event = uploads.events[-1]  # type: ignore[attr-defined]
    assert event["requestContext"]["domainName"] == gateway.domain
    assert "evil" not in json.dumps(event["requestContext"])
    assert event["headers"]["Host"] == "evil.example"  # passed through, as API Gateway does
