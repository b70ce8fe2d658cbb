"""Render: verified renders per second, as a ratio to raw zint rendering of the same symbols.

"Verified" is what the service does for every local render (`verify.render_verified`):
fit the symbol at whole pixels per module into the exact width x height, draw the
canvas, write the PNG, and decode it back with zxing-cpp. "Raw zint" is zint alone
encoding the same content at the same module size, with a linear symbol's bars as tall
as the requested height (zint's default is 50 rows: a third of the pixels of a 150 px
high label, which is not the same image), and writing its own PNG to memory (no
fitting, no canvas, no read-back). Both run in the same process, interleaved in
short rounds so that machine load hits both alike; the ratio of each round is
reported as its median and range. One thread, warm (imports and the first render are
not counted).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from .common import LAYER, Figure, ensure_paths, median, module_main

CASES = (
    ("EAN-13", "ean13", "6901234567892", 300, 150),
    ("Code 128", "code128", "BARCODE-BACKEND-0012345", 300, 150),
    ("QR", "qrcode", "https://example.com/products/6901234567892", 300, 300),
    ("Data Matrix", "datamatrix", "6901234567892 LOT 42", 300, 300),
    ("GS1 DL QR", "gs1_digital_link", "(01)09501101530003(10)AB1(17)271231", 300, 300),
)
TARGET_RATIO = 0.5


def _rate(action: Callable[[], Any], seconds: float) -> float:
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        action()
        count += 1
    return count / elapsed


def _raw_zint(
    zint_name: str, input_mode: str | None, data: str, k: int, bar_rows: int | None
) -> Callable[[], bytes]:
    import zint

    def draw() -> bytes:
        symbol = zint.Symbol()
        symbol.symbology = getattr(zint.Symbology, zint_name)
        if input_mode:
            for name in input_mode.split("|"):
                symbol.input_mode |= getattr(zint.InputMode, name)
        symbol.scale = k / 2
        if bar_rows is not None:
            symbol.height = bar_rows / k  # zint's height is in modules
        symbol.outfile = "raw.png"
        symbol.output_options |= (
            zint.OutputOptions.BARCODE_MEMORY_FILE | zint.OutputOptions.BARCODE_QUIET_ZONES
        )
        symbol.encode(data)
        symbol.print()
        memfile = symbol.memfile
        assert memfile is not None
        return bytes(memfile)

    return draw


def run(quick: bool = False) -> list[Figure]:
    if not (LAYER / "barcode_service" / "verify.py").is_file():
        return [Figure("render", "verified renders", "not measured: verify.py is missing")]
    ensure_paths()
    from barcode_service.barcode_request import parse_request
    from barcode_service.verify import render_verified

    rounds, slice_seconds = (3, 0.2) if quick else (7, 0.5)
    figures = []
    for title, name, raw, width, height in CASES:
        request = parse_request({"type": name, "content": raw, "width": width, "height": height})
        made = render_verified(request)
        if made.facts.verified is not True or not made.body.startswith(b"\x89PNG"):
            raise RuntimeError(f"{title}: the render did not verify")
        symbology = request.symbology
        data = request.content
        if symbology.input_mode == "UNICODE" or symbology.input_mode is None:
            data = symbology.zint_data(request.content)
        k = int(made.facts.module_px)
        bar_rows = height if symbology.stretch else None
        raw_zint = _raw_zint(symbology.zint, symbology.input_mode, data, k, bar_rows)
        raw_zint()

        def verified(request: Any = request) -> None:
            render_verified(request)

        ratios, verified_rates, raw_rates = [], [], []
        for _ in range(rounds):
            v = _rate(verified, slice_seconds)
            r = _rate(raw_zint, slice_seconds)
            verified_rates.append(v)
            raw_rates.append(r)
            ratios.append(v / r)
        ratio = median(ratios)
        figures.append(
            Figure(
                "render",
                f"{title} {width}x{height} verified",
                f"{median(verified_rates):,.0f} verified renders/s vs {median(raw_rates):,.0f} "
                f"raw zint/s = {ratio:.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}, "
                f"{made.facts.module_px:g} px/module)",
                target=f">= {TARGET_RATIO}x",
                ok=ratio >= TARGET_RATIO,
            )
        )
    return figures


if __name__ == "__main__":
    sys.exit(module_main(run))
