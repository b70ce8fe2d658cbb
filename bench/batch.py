"""Batch throughput: a 10,000-code upload through the upload worker vs a rate-limited upstream.

The whole path as a client uses it, on loopback: `python -m local.stack` (moto, the
gateway, the uploads API and the worker fed by the uploads queue) with LOOKUP_API_URL
pointed at a fake upstream that admits 50 requests/s (token bucket, burst 50) and
answers 429 beyond that, counting each as a violation. The CSV holds 10,000 rows over
1,000 distinct valid EAN-13 codes. Reported: accepted upstream calls per second over
the upload's processing time, as a fraction of the allowed rate, and the violations.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from .common import ROOT, Figure, ean13_codes, free_port, module_main
from .upstream import FakeLookupUpstream

WORKER = ROOT / "functions" / "upload_worker" / "app.py"
RATE = 50.0
TARGET_FRACTION = 0.9
API_KEY = "bench-local-api-key"
TIME_LIMIT = 600.0


def worker_ready() -> bool:
    return WORKER.is_file() and "not implemented yet" not in WORKER.read_text(encoding="utf-8")


def _request(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    head = "".join(parts) + (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Stack:
    """`python -m local.stack` in a subprocess until `stop()`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.output: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.ready.wait(120):
            self.stop()
            raise RuntimeError("local stack did not start:\n" + "".join(self.output[-30:]))

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("READY "):
                self.ready.set()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def upload_and_wait(stack: Stack, csv: bytes) -> tuple[dict[str, Any], float]:
    headers = {"x-api-key": API_KEY, "Content-Type": "application/json"}
    request = json.dumps({"filename": "codes.csv", "content_type": "text/csv"}).encode()
    status, created = _request("POST", f"{stack.api}/uploads", request, headers)
    if status != 201:
        raise RuntimeError(f"POST /uploads answered {status}: {created}")
    body, content_type = _multipart(created["upload"]["fields"], "codes.csv", csv)
    started = time.monotonic()
    status, answer = _request(
        "POST", created["upload"]["url"], body, {"Content-Type": content_type}
    )
    if status >= 300:
        raise RuntimeError(f"the presigned POST answered {status}: {answer}")
    job: dict[str, Any] = {}
    while time.monotonic() - started < TIME_LIMIT:
        _, job = _request("GET", f"{stack.api}/uploads/{created['upload_id']}", None, headers)
        if isinstance(job, dict) and job.get("status") in ("done", "failed"):
            return job, time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError(f"the upload was not done after {TIME_LIMIT:.0f} s: {job}")


def run(quick: bool = False) -> list[Figure]:
    if not worker_ready():
        return [
            Figure(
                "batch",
                "upload throughput",
                "not measured: functions/upload_worker/app.py is still a placeholder",
            )
        ]
    rows, distinct = (1_000, 200) if quick else (10_000, 1_000)
    codes = ean13_codes(distinct, prefix="691")
    csv = ("code\n" + "\n".join(codes[i % distinct] for i in range(rows)) + "\n").encode()
    with FakeLookupUpstream(rate=RATE, burst=RATE) as upstream:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(Path.home()),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "LOCAL_API_KEY": API_KEY,
            "LOCAL_LOG_LEVEL": "ERROR",
            "LOCAL_SQS_RETRY_SECONDS": "1",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "LOOKUP_API_URL": upstream.url,
            "GENERATE_API_URL": "http://127.0.0.1:9/never-called",
            "WORKER_LOOKUPS_PER_SECOND": str(RATE),
            "LOOKUP_API_KEY": "bench-api-key",
            "LOOKUP_SECRET_KEY": "bench-secret-key",
        }
        stack = Stack(env)
        try:
            job, seconds = upload_and_wait(stack, csv)
        finally:
            stack.stop()
        accepted, violations = upstream.accepted, upstream.violations
        span = (upstream.last_call or 0) - (upstream.first_call or 0)
    achieved = accepted / span if span > 0 else float("nan")
    fraction = achieved / RATE
    counts = job.get("counts") or {}
    notes = (
        f"{rows} rows ({distinct} distinct codes) -> job {job.get('status')} in {seconds:.1f} s; "
        f"counts {json.dumps(counts, sort_keys=True)}",
        f"upstream: {accepted} calls accepted over {span:.1f} s, {violations} answered 429",
        f"worker run with WORKER_LOOKUPS_PER_SECOND={RATE:.0f} (the allowed rate); one local "
        "worker instance, so aggregate pacing across instances is not exercised",
    )
    return [
        Figure(
            "batch",
            "upload throughput vs upstream rate limit",
            f"{achieved:.1f} req/s = {fraction:.2f} of the allowed {RATE:.0f} req/s",
            f">= {TARGET_FRACTION}",
            fraction >= TARGET_FRACTION,
            notes,
        ),
        Figure(
            "batch",
            "rate-limit violations",
            f"{violations} requests over the limit (answered 429)",
            "0",
            violations == 0,
        ),
    ]


if __name__ == "__main__":
    sys.exit(module_main(run))
