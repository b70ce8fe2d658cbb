"""The print layer (layers/print): reportlab pinned, and bytecode for what a print request
loads (layers/print/bytecode.txt, compiled by layers/print/Makefile)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import compile_bytecode
import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = ROOT / "layers" / "print"
SITE = Path(pytest.__file__).resolve().parents[1]


def test_every_listed_file_is_a_reportlab_module() -> None:
    listed = compile_bytecode.listed(PRINT / "bytecode.txt")
    assert listed
    assert [p for p in listed if not p.startswith("reportlab/")] == []
    assert [p for p in listed if not (SITE / p).is_file()] == []


def test_every_reportlab_module_a_print_request_loads_is_listed() -> None:
    child = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(ROOT / "layers" / "shared")!r})
        from barcode_service.barcode_request import parse_request
        from barcode_service.label_pdf import render_labels
        from barcode_service.labels import parse_labels
        from barcode_service.verify import render_verified
        render_verified(parse_request({{"type": "ean13", "content": "6901234567892",
            "unit": "mm", "width": 40, "height": 25, "format": "pdf", "show_text": True}}))
        render_labels(parse_labels({{"sheet": "L7160",
            "labels": [{{"type": "qrcode", "content": "A1", "lines": ["x"]}}]}}))
        print(json.dumps(sorted(
            m.__file__ for name, m in list(sys.modules.items())
            if name.startswith("reportlab") and getattr(m, "__file__", None)
        )))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Relative to site-packages, whichever path (a venv may be a symlink) the child saw.
    loaded = {f.split("/site-packages/", 1)[1] for f in json.loads(result.stdout)}
    assert loaded
    assert sorted(loaded - set(compile_bytecode.listed(PRINT / "bytecode.txt"))) == []


def test_the_makefile_writes_unchecked_bytecode_with_the_runtimes_python() -> None:
    recipe = (PRINT / "Makefile").read_text(encoding="utf-8")
    assert "--invalidation-mode unchecked-hash" in recipe
    assert "$(BYTECODE_PYTHON) -m compileall" in recipe
    assert "--no-deps" in recipe
    assert "--platform manylinux2014_aarch64" in recipe
