"""MkDocs hook (mkdocs.yml `hooks:`): what the site shows from the repository as it is.

- The API reference page renders `openapi.json` with Swagger UI; the document is the
  layer's own file, added to the site at build time, so the page can never show another
  version of it and no copy of it lives under docs/.
- `<!-- results: <benchmark> -->` in a page becomes the table of that benchmark's rows
  of bench/RESULTS.md (the production page's cost table): figures live only there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "layers/shared/barcode_service/openapi.json"
RESULTS = ROOT / "bench/RESULTS.md"
PLACEHOLDER = re.compile(r"<!-- results: (\w+) -->")


def results_table(results: str, benchmark: str) -> str:
    """The rows of one benchmark of bench/RESULTS.md's table, as a table of its own."""
    rows = []
    for line in results.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) >= 3 and cells[0] == benchmark:
            rows.append(f"| {cells[1]} | {cells[2]} |")
    if not rows:
        raise ValueError(f"bench/RESULTS.md has no rows of benchmark {benchmark!r}")
    return "\n".join(["| figure | measured |", "|---|---|", *rows])


def on_page_markdown(markdown: str, **_: Any) -> str:
    if not PLACEHOLDER.search(markdown):
        return markdown
    results = RESULTS.read_text(encoding="utf-8")
    return PLACEHOLDER.sub(lambda match: results_table(results, match[1]), markdown)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File  # noqa: PLC0415 - only in the docs venv

    files.append(File.generated(config, "openapi.json", content=DOCUMENT.read_bytes()))
    return files
