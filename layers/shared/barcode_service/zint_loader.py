"""zint without its own `import pydoc`.

zint-bindings' native module imports the standard library's `pydoc` while it loads, for
one function: `pydoc.locate`, to find the enum base classes its enums derive from
("enum.IntEnum", "enum.Flag", ...). `pydoc` itself loads inspect, ast and more: in a
bare interpreter `import zint` costs ~41 ms of CPU with it and ~7 ms without; in a
function, where boto3 and Powertools have loaded most of that already, the saving is
what bench/RESULTS.md reports ("deferred: zint without ...", a few ms). While zint
loads, a stand-in `pydoc` holding only
`locate` is in sys.modules; it is removed right after, so nothing else ever sees it
and a later `import pydoc` gets the real one.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types

_lock = threading.Lock()


def _locate(path: str) -> object:
    """`pydoc.locate` for what zint asks: the dotted name of an importable object."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module or "builtins"), name)


def load_zint() -> None:
    """Import zint (once), without letting it import pydoc."""
    if "zint" in sys.modules:
        return
    with _lock:
        if "zint" in sys.modules or "pydoc" in sys.modules:
            import zint  # noqa: PLC0415 - pydoc is loaded anyway: nothing to save

            return
        stand_in = types.ModuleType("pydoc", "zint's stand-in: `locate` only")
        stand_in.locate = _locate  # type: ignore[attr-defined]
        sys.modules["pydoc"] = stand_in
        try:
            import zint  # noqa: F401, PLC0415
        finally:
            if sys.modules.get("pydoc") is stand_in:
                del sys.modules["pydoc"]
