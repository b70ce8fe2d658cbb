"""Render the example images docs/api.md shows, one per generate option, and a label sheet.

`python -m scripts.doc_examples` writes docs/examples/*.png|svg|pdf|eps through the same
code the API uses (`barcode_request.parse_request` + `verify.render_verified`, and
`labels.parse_labels` + `label_pdf.render_labels` for the sheet), so every example in the
docs was decoded back before it was written. The sheet's PDF is also shown as a PNG: its
first page rasterised by PDFium (pypdfium2, a dev dependency), as a printer would.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "examples"

EXAMPLES: dict[str, dict[str, object]] = {
    "ean13.png": {"type": "ean13", "content": "6901234567892", "width": 300, "height": 150},
    "ean13_text.png": {"type": "ean13", "content": "6901234567892", "width": 300,
                       "height": 150, "show_text": True},
    "label_40x20mm.png": {"type": "code128", "content": "LABEL-0042", "unit": "mm",
                          "width": 40, "height": 20, "dpi": 300, "show_text": True},
    "qr_colours.png": {"type": "qrcode", "content": "https://example.com/p/42", "width": 200,
                       "height": 200, "fg": "1A237E", "bg": "FFF8E1"},
    "qr_transparent.png": {"type": "qrcode", "content": "https://example.com/p/42",
                           "width": 200, "height": 200, "bg": "transparent"},
    "code128_rotate90.png": {"type": "code128", "content": "Hello-128", "width": 120,
                             "height": 400, "rotate": 90},
    "qr_no_quiet_zone.png": {"type": "qrcode", "content": "https://example.com/p/42",
                             "width": 200, "height": 200, "quiet_zone": False},
    "gs1_datamatrix.png": {"type": "gs1_datamatrix",
                           "content": "(01)09501101530003(17)271231(10)AB1",
                           "width": 160, "height": 160},
    "gs1_qrcode.png": {"type": "gs1_qrcode", "content": "(01)09501101530003(17)271231(10)AB1",
                       "width": 200, "height": 200},
    "gs1_digital_link.png": {"type": "gs1_digital_link",
                             "content": "(01)09501101530003(10)AB1(17)271231",
                             "width": 240, "height": 240},
    "ean13.svg": {"type": "ean13", "content": "6901234567892", "width": 300, "height": 150,
                  "format": "svg", "fg": "1A237E", "show_text": True},
    "label_40x20mm.pdf": {"type": "code128", "content": "LABEL-0042", "unit": "mm",
                          "width": 40, "height": 20, "format": "pdf", "show_text": True},
    "label_40x20mm.eps": {"type": "code128", "content": "LABEL-0042", "unit": "mm",
                          "width": 40, "height": 20, "format": "eps", "show_text": True},
}  # fmt: skip

SHEET_NAME = "sheet_l7160"
SHEET = {
    "sheet": "L7160",
    "labels": [
        {"type": "gs1_datamatrix", "content": f"(01)09501101530003(17)271231(10)AB{i:02d}",
         "lines": [f"Lot AB{i:02d}", "Best before 31.12.2027"]}
        for i in range(1, 22)
    ],
}  # fmt: skip
SHEET_PREVIEW_DPI = 100


def main() -> int:
    sys.path.insert(0, str(ROOT / "layers" / "shared"))
    from barcode_service.barcode_request import parse_request  # noqa: PLC0415
    from barcode_service.verify import render_verified  # noqa: PLC0415

    OUT.mkdir(parents=True, exist_ok=True)
    for name, params in EXAMPLES.items():
        made = render_verified(parse_request(params))
        (OUT / name).write_bytes(made.body)
        print(f"{name}: verified={made.facts.verified} module_px={made.facts.module_px:g}")
    _sheet()
    return 0


def _sheet() -> None:
    """The L7160 example: the PDF, and its first page as a PNG preview."""
    import pypdfium2  # noqa: PLC0415 - dev dependency, only here
    from PIL import ImageDraw  # noqa: PLC0415

    from barcode_service.label_pdf import render_labels  # noqa: PLC0415
    from barcode_service.labels import parse_labels  # noqa: PLC0415

    request = parse_labels(SHEET)
    made = render_labels(request)
    (OUT / f"{SHEET_NAME}.pdf").write_bytes(made.body)
    page = pypdfium2.PdfDocument(made.body)[0]
    image = page.render(scale=SHEET_PREVIEW_DPI / 72, grayscale=True).to_pil()
    # The die-cut edges, on the preview only (the PDF prints none): where the template
    # puts each label.
    draw, px = ImageDraw.Draw(image), SHEET_PREVIEW_DPI / 25.4
    sheet = request.sheet
    for slot in range(sheet.per_page):
        x, y = sheet.position(slot)
        box = (x * px, y * px, (x + sheet.label_width) * px, (y + sheet.label_height) * px)
        draw.rounded_rectangle(box, radius=round(2 * px), outline=190)
    image.save(OUT / f"{SHEET_NAME}.png", optimize=True)
    print(f"{SHEET_NAME}.pdf: {made.labels} labels, {made.pages} page, {len(made.body)} bytes")


if __name__ == "__main__":
    sys.exit(main())
