"""Cold start: import time of each handler module vs `import boto3`, fresh interpreters.

Every sample is a new interpreter (`python -c`) that times `import <module>` with
perf_counter, so interpreter start-up is not counted. The environment is Lambda's
(LAMBDA_TASK_ROOT set, tracing on as `Tracing: Active` deploys it), PYTHONPATH is
layers/shared plus the project root. Runs are interleaved (boto3, handler, boto3,
handler, ...) and the median is reported as a ratio to `import boto3` of the same run.
For a handler over target, `-X importtime` names the packages it adds to boto3's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from .common import LAYER, ROOT, Figure, median, module_main

TARGET_RATIO = 1.5
HANDLERS = {
    "lookup": "functions/lookup/app.py",
    "generate": "functions/generate/app.py",
    "uploads": "functions/uploads/app.py",
    "upload_worker": "functions/upload_worker/app.py",
}
_TIMER = (
    "import time, importlib\n"
    "t = time.perf_counter()\n"
    "importlib.import_module({module!r})\n"
    "print(time.perf_counter() - t)\n"
)
FIRST_PARTY = ("barcode_service", "functions")
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)$")


def lambda_environment() -> dict[str, str]:
    """What a deployed function sees at import (no credentials needed: nothing is called)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON"))
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(LAYER), str(ROOT)]),
            "PYTHONDONTWRITEBYTECODE": "",
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "BarcodeBackend",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "CACHE_TABLE": "bench-cache",
            "SECRET_ID": "bench/secret",
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE")
    return env


def available_handlers() -> dict[str, str]:
    """Handler modules present and not a placeholder, by name -> dotted module."""
    found = {}
    for name, path in HANDLERS.items():
        file = ROOT / path
        if file.is_file() and "not implemented yet" not in file.read_text(encoding="utf-8"):
            found[name] = path.removesuffix(".py").replace("/", ".")
    return found


def time_import(module: str, env: dict[str, str]) -> float:
    """Seconds to import `module` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _TIMER.format(module=module)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed: {result.stderr.strip().splitlines()[-1:]}")
    return float(result.stdout.strip().splitlines()[-1])


@dataclass
class _Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list[_Node] = field(default_factory=list)


def import_tree(module: str, env: dict[str, str]) -> list[_Node]:
    """`-X importtime` of `module` as a forest (the output lists children before parents)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    stack: list[tuple[int, _Node]] = []
    for line in result.stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        depth = len(match.group(3))
        node = _Node(match.group(4), int(match.group(1)), int(match.group(2)))
        while stack and stack[-1][0] > depth:
            node.children.insert(0, stack.pop()[1])
        stack.append((depth, node))
    return [node for _, node in stack]


def _walk(nodes: list[_Node]) -> Iterator[tuple[_Node | None, _Node]]:
    pending: list[tuple[_Node | None, _Node]] = [(None, n) for n in nodes]
    while pending:
        parent, node = pending.pop()
        yield parent, node
        pending.extend((node, child) for child in node.children)


def _first_party(name: str) -> bool:
    return name.split(".", maxsplit=1)[0] in FIRST_PARTY


def heavy_imports(module: str, env: dict[str, str], baseline: set[str], top: int = 6) -> list[str]:
    """What the handler adds to `import boto3`: third-party imports made by our modules
    (cumulative, only what boto3 alone does not load) and our modules' own time."""
    found: dict[str, int] = {}
    own = 0
    for parent, node in _walk(import_tree(module, env)):
        if _first_party(node.name):
            own += node.self_us
        elif parent is not None and _first_party(parent.name) and node.name not in baseline:
            found[f"{node.name} (from {parent.name})"] = node.cumulative_us
    ranked = sorted(found.items(), key=lambda item: item[1], reverse=True)[:top]
    lines = [f"{name} {us / 1000:.0f} ms" for name, us in ranked]
    lines.append(f"first-party modules' own time {own / 1000:.0f} ms")
    return lines


def run(quick: bool = False) -> list[Figure]:
    env = lambda_environment()
    handlers = available_handlers()
    rounds = 5 if quick else 15
    untraced = {**env, "POWERTOOLS_TRACE_DISABLED": "true"}
    plan = {"boto3": ("boto3", env)}
    for name, module in handlers.items():
        plan[name] = (module, env)
        plan[f"{name}/untraced"] = (module, untraced)
    samples: dict[str, list[float]] = {name: [] for name in plan}
    # One warm-up round fills the OS page cache and .pyc files; it is not counted.
    for counted in [False] + [True] * rounds:
        for name, (module, environment) in plan.items():
            seconds = time_import(module, environment)
            if counted:
                samples[name].append(seconds)
    base = median(samples["boto3"])
    figures = [
        Figure(
            "cold_start",
            "import boto3 (baseline)",
            f"{base * 1000:.0f} ms (median of {rounds}, interleaved)",
        )
    ]
    baseline_modules = {node.name for _, node in _walk(import_tree("boto3", env))}
    for name, module in handlers.items():
        value = median(samples[name])
        ratio = value / base
        ok = ratio <= TARGET_RATIO
        untraced_ratio = median(samples[f"{name}/untraced"]) / base
        notes: tuple[str, ...] = (
            f"with POWERTOOLS_TRACE_DISABLED=true: {untraced_ratio:.2f}x import boto3",
        )
        if not ok:
            heavy = heavy_imports(module, env, baseline_modules)
            notes += tuple(f"heavy: {item}" for item in heavy)
        figures.append(
            Figure(
                "cold_start",
                f"{name} handler import",
                f"{value * 1000:.0f} ms = {ratio:.2f}x import boto3",
                f"<= {TARGET_RATIO}x",
                ok,
                notes,
            )
        )
    missing = sorted(set(HANDLERS) - set(handlers))
    if missing:
        figures.append(
            Figure("cold_start", "not measured", "placeholder or missing: " + ", ".join(missing))
        )
    return figures


if __name__ == "__main__":
    sys.exit(module_main(run))
