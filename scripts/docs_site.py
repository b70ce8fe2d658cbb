"""MkDocs hook (mkdocs.yml `hooks:`): the site serves the OpenAPI document the API serves.

The API reference page renders `openapi.json` with Swagger UI; the document is the
layer's own file, added to the site as it is at build time, so the page can never show
another version of it and no copy of it lives under docs/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

DOCUMENT = Path(__file__).resolve().parents[1] / "layers/shared/barcode_service/openapi.json"


def on_files(files: Files, config: Any) -> Files:
    files.append(
        File.generated(
            config,
            "openapi.json",
            content=DOCUMENT.read_bytes(),
        )
    )
    return files
