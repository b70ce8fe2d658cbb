"""`python -m local.stack` as a subprocess on a free loopback port, for the e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.e2e.fake_upstreams import FakeUpstreams

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90


class StackDidNotStart(RuntimeError):
    """The stack printed no READY line in time; carries its last output."""


@dataclass
class StackProcess:
    process: subprocess.Popen[str]
    base: str
    state_dir: Path
    output: list[str] = field(default_factory=list)
    exit_code: int | None = None

    @property
    def api(self) -> str:
        return f"{self.base}/v1"


def new_csv_upload(stack: StackProcess, api_key: str, timeout: float = 30) -> dict[str, Any]:
    """`POST /v1/uploads` for a `codes.csv`: the answer (upload id, presigned POST, links)."""
    answer: dict[str, Any] = requests.post(
        f"{stack.api}/uploads",
        headers={"x-api-key": api_key},
        json={"filename": "codes.csv", "content_type": "text/csv"},
        timeout=timeout,
    ).json()
    return answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def local_stack(
    upstreams: FakeUpstreams,
    home: Path,
    api_key: str,
    log_level: str = "WARNING",
    *,
    state_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[StackProcess]:
    """Start the stack against `upstreams`, yield once READY, stop it with SIGTERM.

    Its state is kept in `state_dir` (default: a fresh `state` folder in `home`), never
    in the checkout's `.local/state`.
    """
    port = free_port()
    state_dir = state_dir or home / "state"
    # A clean environment: nothing of the developer's AWS setup or of the unit tests' fakes.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        "LOCAL_API_KEY": api_key,
        "LOCAL_LOG_LEVEL": log_level,
        "LOCAL_SQS_RETRY_SECONDS": "1",
        "UPSTREAM_BACKOFF": "0",
        "LOCAL_STATE_DIR": str(state_dir),
        **upstreams.environment(),
        **(extra_env or {}),
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
    running = StackProcess(process=process, base=f"http://127.0.0.1:{port}", state_dir=state_dir)
    ready = threading.Event()

    def drain() -> None:
        # Keep reading to the end: a full pipe would block the stack's logging.
        assert process.stdout is not None
        for line in process.stdout:
            running.output.append(line)
            if line.startswith("READY "):
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT):
            raise StackDidNotStart("".join(running.output[-60:]))
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            running.exit_code = process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
