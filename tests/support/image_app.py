"""functions/image/app.py loaded as a module of its own (its directory is no package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

APP = Path(__file__).resolve().parents[2] / "functions" / "image" / "app.py"


def load_image_app(name: str = "image_function_app") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
