"""`python -m bench`: every benchmark, one summary line per figure, then bench/RESULTS.md.

`--quick` shortens every benchmark (fewer rounds, smaller workloads) for a smoke run;
RESULTS.md is only rewritten by a full run. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from . import batch, cold_start, layer, limiter, quota, render, scan, warm
from .common import RESULTS, Figure, print_figures

BENCHMARKS: tuple[tuple[str, Callable[..., list[Figure]]], ...] = (
    ("cold_start", cold_start.run),
    ("warm", warm.run),
    ("quota", quota.run),
    ("limiter", limiter.run),
    ("batch", batch.run),
    ("render", render.run),
    ("scan", scan.run),
    ("layer", layer.run),
)


def machine() -> str:
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )


def results_markdown(figures: list[Figure], seconds: float) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `make bench` "
        f"(`python -m bench`) on {machine()}, in {seconds:.0f} s. "
        "Everything runs on loopback: moto server for AWS, fake upstreams.",
        "",
        "| benchmark | figure | measured | target | |",
        "|---|---|---|---|---|",
    ]
    for f in figures:
        verdict = "" if f.ok is None else ("ok" if f.ok else "**missed**")
        lines.append(f"| {f.benchmark} | {f.name} | {f.text} | {f.target} | {verdict} |")
    notes = [(f, note) for f in figures for note in f.notes]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {f.benchmark} / {f.name}: {note}" for f, note in notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = [a for a in argv if not a.startswith("-")]
    started = time.perf_counter()
    figures: list[Figure] = []
    for name, run in BENCHMARKS:
        if only and name not in only:
            continue
        try:
            produced = run(quick=quick)
        except Exception as error:  # one broken benchmark must not hide the others
            produced = [Figure(name, "failed", f"{type(error).__name__}: {error}", ok=False)]
        print_figures(produced)
        figures += produced
    seconds = time.perf_counter() - started
    if not quick and not only:
        RESULTS.write_text(results_markdown(figures, seconds), encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(RESULTS.parent.parent)} ({seconds:.0f} s)")
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
