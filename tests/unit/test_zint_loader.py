"""zint loads without its own `import pydoc`, works, and leaves the real pydoc to others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from barcode_service.zint_loader import _locate, load_zint

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from barcode_service.zint_loader import load_zint
load_zint()
assert "pydoc" not in sys.modules, "zint imported pydoc"
import zint
symbol = zint.Symbol()
symbol.symbology = zint.Symbology.EANX
symbol.encode("5901234123457")
assert isinstance(zint.Symbology.EANX, zint.Symbology)
import pydoc
assert hasattr(pydoc, "render_doc"), "a later import pydoc gets the real one"
print("ok")
"""


def test_zint_loads_without_pydoc_in_a_fresh_interpreter() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "shared")}
    result = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "ok"


def test_locate_finds_what_zint_asks_for() -> None:
    import enum

    assert _locate("enum.IntFlag") is enum.IntFlag
    assert _locate("int") is int


def test_loading_again_is_free() -> None:
    load_zint()
    load_zint()
    assert "zint" in sys.modules
