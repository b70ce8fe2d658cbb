"""Print: label sheets per second against zint alone, PDF bytes per label, peak memory, and
a 1,000-label sheet against the API's timeout.

"Labels" is what POST /labels does for a sheet of distinct labels (`label_pdf`): parse
and validate the request, fit every barcode on whole 300 dpi dots, read each back from
its own dots with zxing-cpp, and write the PDF (text lines included). "zint alone" is
zint drawing the same symbols at the same dots per module and bar height, as the
render benchmark's raw zint does: its own PNG, to memory, of each (what a printer at
300 dpi is sent, made by zint alone: no fitting, no read-back, no text, no page). Both
run in this process, interleaved in rounds so that machine load hits both alike, each
timed in CPU seconds of this process; the ratio of each round is reported as its median
and range. For reference, zint writing
its own EPS of each symbol (a vector file: no pixels at all) is measured too. Two
sheets: EAN-13 with its digits and one line, and GS1 Data Matrix with two lines
(L7160, 21 a page).

Then a fresh interpreter renders the 1,000-label GS1 Data Matrix sheet once, cold
(imports, reportlab's included): its wall time, CPU time and peak RSS (VmHWM). On Lambda
the generate function has 1,024 MB, about 0.58 of a vCPU (one vCPU at 1,769 MB, as
bench/cost.py models it): the CPU time scaled by 1769/1024 must stay within the
function's 25 s timeout (API Gateway gives up at 29 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

from .common import LAYER, ROOT, Figure, Spread, ensure_paths, gtin_check_digit, module_main
from .render import _raw_zint

TARGET_RATIO = 0.3
FUNCTION_TIMEOUT_S = 25.0
MEMORY_MB, FULL_VCPU_MB = 1024, 1769
FULL_SHEET = 1000


def ean13_labels(count: int) -> list[dict[str, Any]]:
    codes = [f"590123{i:06d}" for i in range(count)]
    return [
        {"type": "ean13", "content": c + gtin_check_digit(c), "lines": [f"Item {i}"],
         "show_text": True}
        for i, c in enumerate(codes)
    ]  # fmt: skip


def gs1_labels(count: int) -> list[dict[str, Any]]:
    return [
        {"type": "gs1_datamatrix", "content": f"(01)09506000134352(17)271231(10)LOT{i:04d}",
         "lines": [f"Lot LOT{i:04d}", "Best before 31.12.2027"]}
        for i in range(count)
    ]  # fmt: skip


SHEETS: tuple[tuple[str, Callable[[int], list[dict[str, Any]]]], ...] = (
    ("EAN-13", ean13_labels),
    ("GS1 Data Matrix", gs1_labels),
)


def _zint_png(request: Any) -> Callable[[], int]:
    """zint drawing each of the request's symbols as the sheet has it, as its own PNG."""
    from barcode_service.label_pdf import lay_out

    draws = []
    for label, laid in zip(request.labels, lay_out(request), strict=True):
        symbology, k = label.symbology, laid.symbol.dots_per_module
        data = symbology.zint_data(label.content)
        rows = round(laid.symbol.height) if symbology.stretch else None
        draws.append(_raw_zint(symbology.zint, symbology.input_mode, data, k, rows))

    def draw() -> int:
        return sum(len(one()) for one in draws)

    return draw


def _zint_eps(request: Any) -> Callable[[], int]:
    """zint writing its own EPS of each of the request's symbols."""
    import zint

    from barcode_service.render import encode_symbol

    labels = request.labels

    def draw() -> int:
        written = 0
        for label in labels:
            symbol = encode_symbol(label.symbology, label.content, label.show_text, scale=1.5)
            symbol.outfile = "label.eps"
            symbol.output_options |= zint.OutputOptions.BARCODE_MEMORY_FILE
            symbol.print()
            written += len(bytes(symbol.memfile))
        return written

    return draw


def _timed(action: Callable[[], Any]) -> float:
    """CPU seconds of `action` (this process, one thread): time the machine's other work
    takes from this one counts for neither side."""
    started = time.process_time()
    action()
    return time.process_time() - started


def _in_process(quick: bool) -> list[Figure]:
    from barcode_service.label_pdf import render_labels
    from barcode_service.labels import parse_labels

    count, rounds = (200, 2) if quick else (FULL_SHEET, 3)
    figures = []
    for title, make in SHEETS:
        body = {"sheet": "L7160", "labels": make(count)}
        request = parse_labels(body)
        made = render_labels(request)  # warm: imports and first use not counted
        zint_png, zint_eps = _zint_png(request), _zint_eps(request)
        zint_png()
        zint_eps()

        def ours(body: dict[str, Any] = body) -> None:
            render_labels(parse_labels(body))

        ratios, eps_ratios, our_rates, png_rates, eps_rates = [], [], [], [], []
        for _ in range(rounds):
            our_rates.append(count / _timed(ours))
            png_rates.append(count / _timed(zint_png))
            eps_rates.append(count / _timed(zint_eps))
            ratios.append(our_rates[-1] / png_rates[-1])
            eps_ratios.append(our_rates[-1] / eps_rates[-1])
        spread = Spread(tuple(ratios))
        ok, crosses = spread.verdict(lambda r: r >= TARGET_RATIO)
        ours_median = Spread(tuple(our_rates)).median
        figures.append(
            Figure(
                "print",
                f"{title} sheet of {count}, verified",
                f"{ours_median:,.0f} labels/s vs {Spread(tuple(png_rates)).median:,.0f} "
                f"zint PNG/s at the same dots = {spread.text('{:.2f}', 'x')}",
                target=f">= {TARGET_RATIO}x",
                ok=ok,
                crosses=crosses,
                notes=(
                    f"PDF {len(made.body) / made.labels:,.0f} bytes per label "
                    f"({len(made.body) / 1e6:.2f} MB, {made.pages} pages)",
                    f"against zint's own EPS ({Spread(tuple(eps_rates)).median:,.0f}/s, no "
                    f"pixels): {Spread(tuple(eps_ratios)).text('{:.2f}', 'x')}",
                ),
            )
        )
    return figures


_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path[:0] = [{layer!r}, {root!r}]
    started, cpu = time.perf_counter(), time.process_time()
    from barcode_service.label_pdf import render_labels
    from barcode_service.labels import parse_labels
    from bench.print import gs1_labels
    made = render_labels(parse_labels({{"sheet": "L7160", "labels": gs1_labels({count})}}))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    print(json.dumps({{"wall": wall, "cpu": cpu, "kib": int(status), "bytes": len(made.body)}}))
    """
)


def _cold_sheet(count: int) -> dict[str, Any]:
    code = _CHILD.format(layer=str(LAYER), root=str(ROOT), count=count)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def run(quick: bool = False) -> list[Figure]:
    if not (LAYER / "barcode_service" / "label_pdf.py").is_file():
        return [Figure("print", "label sheets", "not measured: label_pdf.py is missing")]
    ensure_paths()
    figures = _in_process(quick)
    count = 200 if quick else FULL_SHEET
    cold = _cold_sheet(count)
    on_lambda = cold["cpu"] * FULL_VCPU_MB / MEMORY_MB + (cold["wall"] - cold["cpu"])
    figures.append(
        Figure(
            "print",
            f"{count} GS1 Data Matrix labels, cold process",
            f"{cold['wall']:.2f} s wall, {cold['cpu']:.2f} s CPU here; modelled at "
            f"{MEMORY_MB} MB: {on_lambda:.1f} s",
            target=f"<= {FUNCTION_TIMEOUT_S:g} s (function timeout)",
            ok=on_lambda <= FUNCTION_TIMEOUT_S,
            notes=(
                f"peak RSS {cold['kib'] / 1024:.0f} MiB (VmHWM, interpreter and imports "
                f"included); PDF {cold['bytes'] / 1e6:.2f} MB",
            ),
        )
    )
    return figures


if __name__ == "__main__":
    sys.exit(module_main(run))
