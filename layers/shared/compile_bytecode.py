"""Bytecode for the built layer: run by layers/shared/Makefile, not shipped.

Lambda mounts a layer read-only, so CPython cannot write `__pycache__` there: a layer
without bytecode compiles every module it imports from source at every cold start
(about 100-300 ms of CPU for these handlers). This writes the `.pyc` files the runtime
would otherwise compile:
- every module of `barcode_service` (ours, small);
- the third-party modules listed in `bytecode.txt`: those a cold start of each function
  loads from the layer, as measured by `python -m bench.bytecode`. Unlisted modules
  (parts of packages no request reaches) stay source only, which keeps the layer small.

Bytecode is `unchecked-hash`: CPython uses it without comparing it with the source,
so the mtimes a zip keeps do not matter, and the layer never changes once published.
It must be written by the runtime's CPython (3.13): other versions name their files
differently, and the runtime would ignore them.

Usage: `python compile_bytecode.py LAYER_DIR LIST_FILE`. It fails on a listed file the
layer does not have (a package upgrade moved it: refresh the list).
"""

from __future__ import annotations

import py_compile
import sys
from pathlib import Path

RUNTIME = (3, 13)
FIRST_PARTY = "barcode_service"


def listed(list_file: Path) -> list[str]:
    """The list's paths (relative to the layer), comments and blank lines dropped."""
    lines = (line.split("#", 1)[0].strip() for line in list_file.read_text().splitlines())
    return [line for line in lines if line]


def sources(layer: Path, list_file: Path) -> list[Path]:
    """Every file to compile; raises FileNotFoundError naming listed files not in `layer`."""
    third_party = [layer / name for name in listed(list_file)]
    missing = [str(path.relative_to(layer)) for path in third_party if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"listed but not in the layer: {', '.join(missing)}")
    return sorted((layer / FIRST_PARTY).rglob("*.py")) + third_party


def compile_layer(layer: Path, list_file: Path) -> int:
    """Write unchecked-hash bytecode next to each source; the number of files compiled."""
    files = sources(layer, list_file)
    for path in files:
        py_compile.compile(
            str(path),
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    return len(files)


def main(argv: list[str]) -> int:
    if sys.version_info[:2] != RUNTIME:
        print(
            f"compile_bytecode.py needs CPython {RUNTIME[0]}.{RUNTIME[1]} (the Lambda "
            f"runtime's), not {sys.version.split()[0]}: set BYTECODE_PYTHON",
            file=sys.stderr,
        )
        return 2
    layer, list_file = Path(argv[0]), Path(argv[1])
    try:
        count = compile_layer(layer, list_file)
    except FileNotFoundError as error:
        print(f"compile_bytecode.py: {error}", file=sys.stderr)
        return 1
    print(f"bytecode written for {count} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
