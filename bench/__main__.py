"""`python -m bench`: every benchmark, one summary line per figure, then bench/RESULTS.md.

`--quick` shortens every benchmark (fewer rounds, smaller workloads) for a smoke run;
RESULTS.md is only rewritten by a full run. `--hog` runs a CPU hog beside the whole
run: a busy loop pinned to one core that stops by itself (HOG_SECONDS at most), as a
noisy neighbour would. Each full run adds a line to RESULTS.md's "Recent runs" (the
last RECENT kept), so consecutive runs can be compared. Exit status 1 when a target is
missed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from . import (
    batch,
    cold_start,
    cost,
    gs1,
    image_memory,
    layer,
    limiter,
    quota,
    render,
    scan,
    sources,
    warm,
)
from . import print as print_bench
from .common import RESULTS, Figure, cpu_hog, print_figures

HOG_SECONDS = 900.0
RECENT = 6
RECENT_HEADING = "## Recent runs"

BENCHMARKS: tuple[tuple[str, Callable[..., list[Figure]]], ...] = (
    ("cold_start", cold_start.run),
    ("cost", cost.run),
    ("warm", warm.run),
    ("quota", quota.run),
    ("limiter", limiter.run),
    ("sources", sources.run),
    ("batch", batch.run),
    ("render", render.run),
    ("print", print_bench.run),
    ("scan", scan.run),
    ("gs1", gs1.run),
    ("image_memory", image_memory.run),
    ("layer", layer.run),
)


def machine() -> str:
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )


def recent_runs(figures: list[Figure], seconds: float, hog: bool) -> list[str]:
    """The previous RESULTS.md's recent-run lines plus this run's, newest first."""
    missed = [f"{f.benchmark} {f.name}" for f in figures if f.ok is False]
    crossing = [f"{f.benchmark} {f.name}" for f in figures if f.ok and f.crosses]
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | {'yes' if hog else 'no'} | {seconds:.0f} s "
        f"| {sum(f.ok is True for f in figures)} of {sum(f.ok is not None for f in figures)} "
        f"| {'; '.join(missed) or 'none'} | {'; '.join(crossing) or 'none'} |"
    )
    old: list[str] = []
    if RESULTS.is_file():
        text = RESULTS.read_text(encoding="utf-8")
        if RECENT_HEADING in text:
            section = text.split(RECENT_HEADING, 1)[1].splitlines()
            old = [x for x in section if x.startswith("| 20")]
    return [line, *old][:RECENT]


def results_markdown(figures: list[Figure], seconds: float, hog: bool) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `make bench` "
        f"(`python -m bench{' --hog' if hog else ''}`) on {machine()}, in {seconds:.0f} s"
        f"{', with a CPU hog on one core' if hog else ''}, while other work shared the "
        f"machine (load average {os.getloadavg()[0]:.1f} at the end). Everything runs on "
        "loopback: moto server for AWS, fake upstreams. Ratios are measured side by side in "
        "the same run; `spread` is the min-max of the repeats; a verdict says so when the "
        "spread crosses the target.",
        "",
        "| benchmark | figure | measured | target | |",
        "|---|---|---|---|---|",
    ]
    for f in figures:
        verdict = f.verdict if f.ok is not False else f"**{f.verdict}**"
        lines.append(f"| {f.benchmark} | {f.name} | {f.text} | {f.target} | {verdict} |")
    notes = [(f, note) for f in figures for note in f.notes]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {f.benchmark} / {f.name}: {note}" for f, note in notes]
    lines += [
        "",
        RECENT_HEADING,
        "",
        "| run | CPU hog | took | targets met | missed | met, spread crossing |",
        "|---|---|---|---|---|---|",
        *recent_runs(figures, seconds, hog),
    ]
    return "\n".join(lines) + "\n"


def run_all(quick: bool, only: list[str]) -> list[Figure]:
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
    return figures


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    hog = "--hog" in argv
    only = [a for a in argv if not a.startswith("-")]
    started = time.perf_counter()
    if hog:
        with cpu_hog(HOG_SECONDS):
            figures = run_all(quick, only)
    else:
        figures = run_all(quick, only)
    seconds = time.perf_counter() - started
    if not quick and not only:
        RESULTS.write_text(results_markdown(figures, seconds, hog), encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(RESULTS.parent.parent)} ({seconds:.0f} s)")
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
