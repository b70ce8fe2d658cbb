"""Shared pieces of the benchmarks: figures, paths, a moto server and the environment."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "shared"
EVENTS = ROOT / "events"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
REGION = "us-east-1"
TABLE = "bench-cache"
SECRET_ID = "bench/barcode-backend/upstreams"  # noqa: S105 - a name, not a secret
SECRET_VALUE = {
    "generate": {"appkey": "bench-appkey"},
    "lookup": {"api_key": "bench-api-key", "secret_key": "bench-secret-key"},
}


@dataclass(frozen=True)
class Figure:
    """One measured number, its target and the line that reports it."""

    benchmark: str
    name: str
    text: str  # e.g. "412 ms = 1.21x import boto3"
    target: str = ""  # e.g. "<= 1.5x"
    ok: bool | None = None  # None: no target (informational)
    notes: tuple[str, ...] = ()
    crosses: bool = False  # the spread of the repeats crosses the target

    @property
    def verdict(self) -> str:
        if self.ok is None:
            return ""
        verdict = "ok" if self.ok else "missed"
        return verdict + (", spread crosses the target" if self.crosses else "")

    def line(self) -> str:
        target = f" (target {self.target})" if self.target else ""
        verdict = f"  {self.verdict.upper()}" if self.verdict else ""
        return f"{self.benchmark} {self.name}: {self.text}{target}{verdict}"


@dataclass(frozen=True)
class Spread:
    """Repeats of one figure: median, min and max, and where they stand to a target."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def text(self, fmt: str = "{:.2f}", unit: str = "") -> str:
        low, high = min(self.values), max(self.values)
        return (
            f"{fmt.format(self.median)}{unit} (median of {len(self.values)}, "
            f"spread {fmt.format(low)}-{fmt.format(high)}{unit})"
        )

    def verdict(self, meets: Any) -> tuple[bool, bool]:
        """(the median meets the target, some repeat lands on the other side of it)."""
        ok = bool(meets(self.median))
        return ok, any(bool(meets(value)) != ok for value in self.values)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ensure_paths() -> None:
    """The layer and the project root on sys.path, as in Lambda (layer) and the tests."""
    for path in (str(ROOT), str(LAYER)):
        if path not in sys.path:
            sys.path.insert(0, path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fake_aws_environment(endpoint: str) -> dict[str, str]:
    """Fake credentials pointed at a local endpoint: nothing can reach a real account."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }


def apply_environment(values: Mapping[str, str]) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(values)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in its own process on loopback (its own CPU, not our GIL); its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 - http://127.0.0.1
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def template_resolver(stack_name: str, overrides: dict[str, str] | None = None) -> Any:
    """template.yaml resolved as the local stack does it, for a fresh moto server.

    A second measurement in this process must not reuse clients of the last moto
    server, so boto3's default session and Powertools' parameter providers are reset.
    """
    ensure_paths()
    import boto3
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    from local.stack import locally_off_conditions
    from local.template import Resolver, Template

    boto3.DEFAULT_SESSION = None
    DEFAULT_PROVIDERS.clear()
    template = Template.load(ROOT / "template.yaml")
    return Resolver(
        template,
        stack_name=stack_name,
        region=REGION,
        parameter_overrides=overrides or {},
        forced_conditions=locally_off_conditions(template),
    )


def create_cache_table(client: Any, name: str = TABLE) -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


def seed_product(client: Any, table: str, gtin14: str) -> None:
    """A found product in the lookup cache, fresh for a day (a cache hit)."""
    ensure_paths()
    from barcode_service.cache import CachedLookup, DynamoLookupStore
    from barcode_service.product import ProductFields

    now = int(time.time())
    fields = ProductFields(name="Bench Tea", brand="Bench", country="中国")
    entry = CachedLookup("found", fields, now, now + 86_400, provider="baichuan")
    DynamoLookupStore(table, client).put_result(gtin14, entry, stale_grace=86_400)


def gtin_check_digit(payload: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


def ean13_codes(count: int, prefix: str = "690") -> list[str]:
    """`count` distinct valid EAN-13 codes (check digits computed) under a GS1 prefix."""
    width = 12 - len(prefix)
    codes = []
    for number in range(1, count + 1):
        payload = f"{prefix}{number:0{width}d}"
        codes.append(payload + gtin_check_digit(payload))
    return codes


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Send fd 1 to /dev/null (Powertools' EMF and log lines) while measuring."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


HOG_CODE = """
import os, sys, time
try:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
except (AttributeError, OSError):
    pass
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    pass
"""


@contextlib.contextmanager
def cpu_hog(seconds: float) -> Iterator[None]:
    """A busy loop on one core (pinned to the first) beside the bench; it stops by itself
    after `seconds`, or when the block ends, whichever is first."""
    process = subprocess.Popen([sys.executable, "-c", HOG_CODE, str(seconds)])
    try:
        yield
    finally:
        process.terminate()
        process.wait()


def print_figures(figures: list[Figure]) -> None:
    for figure in figures:
        print(figure.line(), flush=True)
        for note in figure.notes:
            print(f"    {note}", flush=True)


def module_main(run: Any) -> int:
    """Entry point of one benchmark module: `--quick` for a shorter run."""
    quick = "--quick" in sys.argv[1:]
    figures: list[Figure] = run(quick=quick)
    print_figures(figures)
    return 0 if all(f.ok is not False for f in figures) else 1


def load_event(name: str) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data
