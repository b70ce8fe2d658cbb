"""SnapStart's hooks: what each function builds before the snapshot, and what a restore renews.

Before the snapshot (each handler's hook, run as Lambda runs it: once, before any
request): the service and all its lazy parts are built and the native libraries and
tables a first request needs are loaded, while not one socket connects or sends, no
name is looked up and no secret is read. After restore (emulated with fork in
tests/support/restore_child.py): two restored copies draw different random numbers and
ids, and a connection pooled before the snapshot is never used again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from barcode_service import snapshot
from barcode_service.credentials import SecretStore
from barcode_service.settings import get_settings
from barcode_service.wiring import Lazy
from functions.generate import app as generate_app
from functions.image import app as image_app
from functions.lookup import app as lookup_app
from functions.upload_worker import app as worker_app
from functions.uploads import app as uploads_app

ROOT = Path(__file__).resolve().parents[2]
RESTORE_CHILD = ROOT / "tests" / "support" / "restore_child.py"
NATIVE = ("zint", "zxingcpp", "PIL.Image")


@pytest.fixture
def network_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to reach the network from now on (each also fails)."""
    calls: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def attempt(*args: Any, **kwargs: Any) -> Any:
            calls.append(f"{name}{args[1:2]}")
            raise OSError(f"no network before a snapshot ({name})")

        return attempt

    for name in ("connect", "connect_ex", "sendto", "sendall", "send"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("getaddrinfo", "gethostbyname", "create_connection"):
        monkeypatch.setattr(socket, name, refuse(f"socket.{name}"))
    return calls


@pytest.fixture
def secret_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of the credentials secret from now on."""
    reads: list[str] = []

    def read(store: SecretStore, refresh: bool) -> dict[str, Any]:
        reads.append(store.secret_id)
        raise AssertionError("a secret was read before the snapshot")

    monkeypatch.setattr(SecretStore, "_document", read)
    return reads


@pytest.fixture
def fresh_parts(monkeypatch: pytest.MonkeyPatch) -> weakref.WeakSet[Lazy[Any]]:
    """Only the lazy parts the function under test makes (other tests made theirs)."""
    made: weakref.WeakSet[Lazy[Any]] = weakref.WeakSet()
    monkeypatch.setattr(Lazy, "made", made)
    monkeypatch.setenv("LOOKUP_PROVIDERS", "openfoodfacts,openlibrary,upcitemdb,baichuan")
    monkeypatch.setenv("UPLOAD_LOOKUP_PROVIDERS", "openlibrary,baichuan")
    monkeypatch.setenv("IMAGES_BUCKET", "images")
    monkeypatch.setenv("UPLOADS_BUCKET", "uploads")
    get_settings.cache_clear()
    for app in (lookup_app, generate_app, uploads_app):
        app.service.cache_clear()
    worker_app.worker.cache_clear()
    return made


def secrets_reader_ready() -> bool:
    """Powertools' Secrets Manager provider is there, on a client built before the
    snapshot (its pool renewed after restore), and that client's exception classes too."""
    provider = DEFAULT_PROVIDERS.get("secrets")
    if provider is None or provider.client not in snapshot.pooled():
        return False
    clients = [p for p in snapshot.pooled() if hasattr(p, "meta")]
    return all(vars(client).get("_exceptions") is not None for client in clients)


def built(made: weakref.WeakSet[Lazy[Any]]) -> bool:
    return bool(made) and all(part._value is not None for part in made)


def test_lookup_before_snapshot(
    fresh_parts: weakref.WeakSet[Lazy[Any]], network_calls: list[str], secret_reads: list[str]
) -> None:
    lookup_app._before_snapshot()
    assert lookup_app.service.cache_info().currsize == 1
    assert secrets_reader_ready()
    # The providers (their shared session), the limiter, Baichuan's client, UPCitemdb's
    # secret store and the community's sharing (its writer reads the account only when
    # it shares): all built, the secret not read.
    assert lookup_app.community.cache_info().currsize == 1
    assert built(fresh_parts)
    assert len(fresh_parts) == 5
    for module in (*NATIVE, "pi_heif", "barcode_service.scans", "barcode_service.gs1"):
        assert module in sys.modules, module
    assert network_calls == []
    assert secret_reads == []


def test_generate_before_snapshot(
    fresh_parts: weakref.WeakSet[Lazy[Any]], network_calls: list[str], secret_reads: list[str]
) -> None:
    generate_app._before_snapshot()
    assert generate_app.service.cache_info().currsize == 1
    assert built(fresh_parts)  # the GuGuData client and its secret store, not its key
    for module in NATIVE:
        assert module in sys.modules, module
    assert network_calls == []
    assert secret_reads == []


def test_uploads_and_image_before_snapshot(
    fresh_parts: weakref.WeakSet[Lazy[Any]], network_calls: list[str], secret_reads: list[str]
) -> None:
    uploads_app.service()  # what its hook is
    assert uploads_app.service in snapshot._before
    image_app.prepare_image()
    assert image_app.prepare_image in snapshot._before
    assert network_calls == []
    assert secret_reads == []


def test_worker_before_snapshot(
    fresh_parts: weakref.WeakSet[Lazy[Any]], network_calls: list[str], secret_reads: list[str]
) -> None:
    worker_app._before_snapshot()
    assert worker_app.worker.cache_info().currsize == 1
    assert secrets_reader_ready()
    assert worker_app.processor.cache_info().currsize == 1
    assert built(fresh_parts)
    for module in (*NATIVE, "pi_heif", "barcode_service.codelist"):
        assert module in sys.modules, module
    assert network_calls == []
    assert secret_reads == []


def test_every_handler_registers_its_hook() -> None:
    hooks = set(snapshot._before)
    assert lookup_app._before_snapshot in hooks
    assert generate_app._before_snapshot in hooks
    assert worker_app._before_snapshot in hooks


def test_hooks_run_in_the_order_they_were_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(snapshot, "_before", [])
    monkeypatch.setattr(snapshot, "_after", [])
    first = snapshot.before_snapshot(lambda: ran.append("before 1"))
    snapshot.before_snapshot(lambda: ran.append("before 2"))
    snapshot.after_restore(lambda: ran.append("after 1"))
    snapshot.after_restore(lambda: ran.append("after 2"))
    snapshot.run_before_snapshot()
    snapshot.run_after_restore()
    assert ran == ["before 1", "before 2", "after 1", "after 2"]
    assert callable(first)  # usable as a decorator


def test_the_runtime_gets_the_hooks_when_it_has_snapshot_restore_py(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In Lambda, snapshot_restore_py is there: our two runners are registered with it."""
    registered: dict[str, list[Any]] = {"before": [], "after": []}
    runtime = type(sys)("snapshot_restore_py")
    runtime.register_before_snapshot = registered["before"].append  # type: ignore[attr-defined]
    runtime.register_after_restore = registered["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    snapshot._register_with_the_runtime()
    assert registered == {
        "before": [snapshot.run_before_snapshot],
        "after": [snapshot.run_after_restore],
    }


def test_a_pool_is_held_weakly() -> None:
    class Pool:
        closed = 0

        def close(self) -> None:
            Pool.closed += 1

    pool = snapshot.renew_after_restore(Pool())
    snapshot._drop_pooled_connections()
    assert Pool.closed == 1
    del pool
    snapshot._drop_pooled_connections()
    assert Pool.closed == 1


# --- restores ----------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients pool the connection
    seen: list[tuple[int, str]] = []  # noqa: RUF012 - (connection, what was asked), per server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        tag = self.path.strip("/") or json.loads(body or "{}").get("TableName", "")
        self.seen.append((id(self.connection), tag))
        payload = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[int, str]]]]:
    seen: list[tuple[int, str]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def restored(url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)]),
        "AWS_ENDPOINT_URL": url,
    }
    result = subprocess.run(
        [sys.executable, str(RESTORE_CHILD), url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    drawn: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return drawn


def test_restored_copies_draw_their_own_numbers_and_ids(
    server: tuple[str, list[tuple[int, str]]],
) -> None:
    drawn = restored(server[0])
    assert drawn["restored-1"]["random"] != drawn["restored-2"]["random"]
    assert drawn["restored-1"]["upload_id"] != drawn["restored-2"]["upload_id"]
    # The control: without the hooks, two copies of one snapshot draw the same numbers.
    assert drawn["unrenewed-1"]["random"] == drawn["unrenewed-2"]["random"]


def test_a_connection_pooled_before_the_snapshot_is_never_used_after_it(
    server: tuple[str, list[tuple[int, str]]],
) -> None:
    url, seen = server
    restored(url)
    before = {conn for conn, tag in seen if tag == "before-snapshot"}
    assert len(before) == 2  # the session's and the DynamoDB client's
    for name in ("restored-1", "restored-2"):
        used = [conn for conn, tag in seen if tag == name]
        assert len(used) == 2
        assert before.isdisjoint(used), name
    # The control: without the hooks, a copy sends on the snapshot's connections.
    unrenewed = {conn for conn, tag in seen if tag.startswith("unrenewed")}
    assert unrenewed & before
