"""Bytecode the layer ships: which modules a cold start loads from it, and what compiling
them would cost.

Lambda mounts a layer read-only, so a module without bytecode in the layer is compiled
from source at every cold start. layers/shared/compile_bytecode.py writes bytecode for
barcode_service and for the third-party files in layers/shared/bytecode.txt. This module
checks that list against what bench.cold_start's children load (every request kind: its
cold request and its warm ones), and prices each function's modules: the CPU it would
spend compiling them, i.e. what every cold start paid before the layer had bytecode.

`python -m bench.bytecode` rewrites bytecode.txt from one child per request kind.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import time
from pathlib import Path
from typing import Any

from .common import LAYER, Figure, ensure_paths

LIST = LAYER / "bytecode.txt"
REQUIREMENTS = LAYER / "requirements.txt"
FIRST_PARTY = "barcode_service"
HEADER = """\
# Third-party modules of the layer that get bytecode (layers/shared/compile_bytecode.py):
# those a cold start of some function loads, found by `python -m bench.bytecode` (one
# fresh interpreter per request kind of bench.cold_start, its cold request and warm
# ones). barcode_service always gets bytecode; everything else stays source only.
"""


def layer_top_levels() -> set[str]:
    """Top-level module names the layer's pinned distributions install (as installed here,
    with the same pins: tests/infrastructure/test_layer.py)."""
    names = set()
    for line in REQUIREMENTS.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if not requirement:
            continue
        name = re.split(r"[\[=<>~! ]", requirement, maxsplit=1)[0]
        for file in importlib.metadata.distribution(name).files or ():
            top = file.parts[0]
            if not top.endswith((".dist-info", ".data")) and top != "..":
                names.add(top)
    return names


def layer_path(source: str, top_levels: set[str]) -> str | None:
    """`source` relative to the built layer, if the layer ships it (None otherwise)."""
    path = Path(source)
    if path.is_relative_to(LAYER):
        return path.relative_to(LAYER).as_posix()
    text = path.as_posix()
    if "/site-packages/" not in text:
        return None
    relative = text.rsplit("/site-packages/", 1)[1]
    return relative if relative.split("/", 1)[0] in top_levels else None


def listed() -> set[str]:
    """The files bytecode.txt names, read as the layer build reads them."""
    ensure_paths()
    import compile_bytecode  # layers/shared: the build's own reader of the list

    return set(compile_bytecode.listed(LIST))


def compile_cpu(sources: list[str]) -> float:
    """CPU seconds CPython spends compiling these files (what a cold start without
    bytecode pays for them)."""
    started = time.process_time()
    for source in sources:
        compile(Path(source).read_bytes(), source, "exec")
    return time.process_time() - started


def loaded_by_function(scenarios: list[Any]) -> dict[str, dict[str, str]]:
    """Per function: layer path -> source file here, of every module its children loaded."""
    top_levels = layer_top_levels()
    loaded: dict[str, dict[str, str]] = {}
    for scenario in scenarios:
        into = loaded.setdefault(scenario.function, {})
        for source in scenario.modules:
            relative = layer_path(source, top_levels)
            if relative is not None:
                into[relative] = source
    return loaded


def figure(scenarios: list[Any], short: dict[str, str]) -> Figure:
    """Modules loaded from the layer that it ships without bytecode (target: none)."""
    compiled = listed()
    per_function = loaded_by_function(scenarios)
    missing: set[str] = set()
    notes = []
    for function, files in per_function.items():
        first_party = [p for p in files if p.startswith(FIRST_PARTY + "/")]
        absent = sorted(p for p in files if p not in compiled and p not in first_party)
        missing.update(absent)
        cost = compile_cpu(sorted(files.values()))
        notes.append(
            f"{short.get(function, function)}: {len(files)} modules from the layer "
            f"({len(first_party)} ours); compiling them costs {cost * 1000:.0f} ms CPU, "
            "what each cold start paid when the layer had no bytecode"
        )
    total = len({p for files in per_function.values() for p in files})
    if missing:
        notes.append("without bytecode: " + ", ".join(sorted(missing)[:12]))
    return Figure(
        "layer",
        "modules a cold start loads from the layer, shipped with bytecode",
        f"{total - len(missing)} of {total} (all request kinds of cold_start)",
        "all",
        not missing,
        tuple(notes),
    )


def write_list(scenarios: list[Any]) -> int:
    per_function = loaded_by_function(scenarios)
    third_party = sorted(
        {p for files in per_function.values() for p in files if not p.startswith(FIRST_PARTY)}
    )
    LIST.write_text(HEADER + "".join(f"{p}\n" for p in third_party), encoding="utf-8")
    return len(third_party)


def main() -> int:
    from .cold_start import measure

    measured = measure(rounds=0, warm=1)
    if measured.failures:
        print(f"request kinds that failed: {measured.failures}", file=sys.stderr)
        return 1
    count = write_list(measured.scenarios)
    print(f"{LIST.relative_to(LAYER.parents[1])}: {count} third-party modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
