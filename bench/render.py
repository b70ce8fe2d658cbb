"""Render: exact-size PNG renders per second with zint (barcode_service.render).

One thread, warm (the first render pays zint's and Pillow's imports and is not
counted); each type renders the same request repeatedly for a fixed time slice.
"""

from __future__ import annotations

import sys
import time

from .common import LAYER, Figure, ensure_paths, module_main

CASES = (
    ("EAN-13", "ean13", "6901234567892", 300, 150),
    ("Code 128", "code128", "BARCODE-BACKEND-0012345", 300, 150),
    ("QR", "qrcode", "https://example.com/products/6901234567892", 300, 300),
    ("Data Matrix", "datamatrix", "6901234567892 LOT 42", 300, 300),
)


def run(quick: bool = False) -> list[Figure]:
    if not (LAYER / "barcode_service" / "render.py").is_file():
        return [Figure("render", "PNG renders", "not measured: barcode_service.render is missing")]
    ensure_paths()
    from barcode_service import render
    from barcode_service.symbologies import find_symbology, validate_content

    slice_seconds = 0.5 if quick else 2.0
    figures = []
    for title, name, raw, width, height in CASES:
        symbology = find_symbology(name)
        content = validate_content(symbology, raw)
        png = render.render_png(symbology, content, width, height)
        if not png.startswith(b"\x89PNG"):
            raise RuntimeError(f"{title}: not a PNG")
        count = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < slice_seconds:
            render.render_png(symbology, content, width, height)
            count += 1
        figures.append(
            Figure(
                "render",
                f"{title} PNG {width}x{height}",
                f"{count / elapsed:,.0f} renders/s ({elapsed / count * 1000:.2f} ms each)",
            )
        )
    return figures


if __name__ == "__main__":
    sys.exit(module_main(run))
