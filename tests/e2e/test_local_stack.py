"""`python -m local.stack` in a subprocess, driven over real HTTP on loopback.

The upstreams are the fakes in fake_upstreams.py; AWS is the stack's own moto. Nothing
leaves the machine. Scenarios for functions that do not exist yet are skipped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.e2e.fake_upstreams import FOUND_CODE, FakeUpstreams, image_url

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-local-api-key"
START_TIMEOUT = 90
TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def needs_function(name: str) -> None:
    if not (ROOT / "functions" / name / "app.py").is_file():
        pytest.skip(f"functions/{name}/app.py does not exist yet")


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    base: str
    upstreams: FakeUpstreams
    output: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"{self.base}/v1"

    def get(
        self, path: str, key: str | None = API_KEY, params: dict[str, str] | None = None
    ) -> requests.Response:
        headers = {"x-api-key": key} if key else {}
        return requests.get(f"{self.api}{path}", headers=headers, params=params, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def upstreams() -> Iterator[FakeUpstreams]:
    fakes = FakeUpstreams().start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="module")
def stack(
    upstreams: FakeUpstreams, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    port = free_port()
    # A clean environment: nothing of the developer's AWS setup or of the unit tests' fakes.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path_factory.mktemp("home")),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        "LOCAL_API_KEY": API_KEY,
        "LOCAL_LOG_LEVEL": "WARNING",
        "LOCAL_SQS_RETRY_SECONDS": "1",
        "UPSTREAM_BACKOFF": "0",
        **upstreams.environment(),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local.stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    running = RunningStack(process=process, base=f"http://127.0.0.1:{port}", upstreams=upstreams)
    ready = threading.Event()

    def drain() -> None:
        # Keep reading to the end: a full pipe would block the stack's logging.
        assert process.stdout is not None
        for line in process.stdout:
            running.output.append(line)
            if line.startswith("READY "):
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(START_TIMEOUT):
        process.kill()
        process.wait(10)
        pytest.fail("the local stack did not print READY:\n" + "".join(running.output[-60:]))
    assert f"READY {running.base}\n" in running.output
    yield running
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the local stack did not stop on SIGTERM")
    assert code == 0, "".join(running.output[-60:])


def test_banner_shows_the_key_and_curl_commands(stack: RunningStack) -> None:
    text = "".join(stack.output)
    assert API_KEY in text
    assert f"curl -H 'x-api-key: {API_KEY}' '{stack.api}/barcodes?type=ean13" in text
    assert f"'{stack.api}/products/6901234567892'" in text
    assert f"'{stack.api}/uploads'" in text


def test_health_needs_no_key(stack: RunningStack) -> None:
    response = stack.get("/health", key=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_other_routes_need_the_key(stack: RunningStack) -> None:
    for key in (None, "not-the-key"):
        response = stack.get(f"/products/{FOUND_CODE}", key=key)
        assert response.status_code == 403


def test_unknown_routes_answer_like_api_gateway(stack: RunningStack) -> None:
    response = stack.get("/no/such/route")
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_lookup_reaches_the_upstream_once_then_the_cache(stack: RunningStack) -> None:
    needs_function("lookup")
    before = stack.upstreams.calls["lookup"]
    first = stack.get(f"/products/{FOUND_CODE}")
    assert first.status_code == 200, first.text
    assert first.json()["name"] == "Test Product"
    assert first.json()["source"] == "upstream"
    assert stack.upstreams.calls["lookup"] == before + 1
    second = stack.get(f"/products/{FOUND_CODE}")
    assert second.status_code == 200, second.text
    assert second.json()["source"] == "cache"
    assert stack.upstreams.calls["lookup"] == before + 1


def test_generate_uses_the_upstream_image(stack: RunningStack) -> None:
    needs_function("generate")
    params = {"type": "ean13", "content": FOUND_CODE, "width": "300", "height": "150"}
    response = stack.get("/barcodes", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["backend"] == "upstream"
    assert body["url"] == image_url(FOUND_CODE)
    assert stack.upstreams.calls["generate"] >= 1
