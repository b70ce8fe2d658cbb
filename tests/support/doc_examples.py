"""The request examples of the docs, as the examples test runs them.

The convention, in README.md and docs/ (an HTML comment shows nowhere):

    <!-- example -->
    ```sh
    curl -s -H "x-api-key: $KEY" "$BASE/products/3017620422003"
    ```

    <!-- answer -->
    ```json
    {"gtin": "03017620422003", "provider": "openfoodfacts"}
    ```

A `sh` block after `<!-- example -->` is run as it is (bash, `set -euo pipefail`) with
`$BASE` and `$KEY` those of the local stack; the `json` block after `<!-- answer -->`
that follows it is what its output must hold: every member shown, with the value shown
(an object may have more members; a string `"..."` stands for any value, and a string
ending in `...` for any value that starts with the rest). A block of requests that
cannot run against the local stack says why instead: `<!-- not run: <reason> -->`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLE = "<!-- example -->"
ANSWER = "<!-- answer -->"
NOT_RUN = re.compile(r"<!-- not run: \S.* -->")
ANY = "..."
# The quick start's own setup lines: the test's stack and key stand in for them.
SETUP_LINES = ("BASE=http://127.0.0.1:3000/v1", "KEY=$(cat .local/api-key)")


@dataclass(frozen=True)
class Block:
    """One fenced block: its info string, text, first line and the marker before it."""

    info: str
    text: str
    line: int
    marker: str


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    script: str
    answer: Any = None
    has_answer: bool = False

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, each with the comment line just before it."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped.startswith("```"):
            index += 1
            continue
        fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        info = stripped[len(fence) :].strip()
        marker = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = "\n".join(lines[index + 1 : end])
        found.append(Block(info, dedent_like(lines[index], body), index + 1, marker))
        index = end + 1
    return found


def dedent_like(fence_line: str, body: str) -> str:
    """A block inside a list item is indented like its fence: take that indent off."""
    indent = len(fence_line) - len(fence_line.lstrip())
    lines = body.split("\n")
    return "\n".join(line[indent:] if line[:indent].isspace() else line for line in lines)


def examples(path: Path, root: Path) -> list[Example]:
    page = str(path.relative_to(root))
    found: list[Example] = []
    for block in blocks(path.read_text(encoding="utf-8")):
        if block.marker == EXAMPLE:
            script = "\n".join(
                line for line in block.text.splitlines() if line.strip() not in SETUP_LINES
            )
            found.append(Example(page, block.line, script))
        elif block.marker == ANSWER:
            if not found or found[-1].has_answer or block.info != "json":
                raise ValueError(f"{page}:{block.line}: an answer follows no example")
            last = found.pop()
            answer = json.loads(block.text)
            found.append(Example(last.page, last.line, last.script, answer, has_answer=True))
    return found


def unmarked_requests(path: Path, root: Path) -> list[str]:
    """Blocks with a curl command that are neither run nor say why not."""
    page = str(path.relative_to(root))
    return [
        f"{page}:{block.line}"
        for block in blocks(path.read_text(encoding="utf-8"))
        if re.search(r"(^|[\s($])curl\s", block.text)
        and block.marker != EXAMPLE
        and not NOT_RUN.fullmatch(block.marker)
    ]


def mismatches(shown: Any, actual: Any, where: str = "$") -> list[str]:
    """Where `actual` does not hold what `shown` shows (empty: it holds all of it)."""
    if isinstance(shown, str) and shown == ANY:
        return []
    if isinstance(shown, str) and shown.endswith(ANY) and isinstance(actual, str):
        prefix = shown.removesuffix(ANY)
        return [] if actual.startswith(prefix) else [f"{where}: {actual!r} is not {shown!r}"]
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r} is not an object"]
        problems = []
        for key, value in shown.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += mismatches(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(shown, list):
        if not isinstance(actual, list) or len(actual) != len(shown):
            return [f"{where}: {actual!r} is not a list of {len(shown)}"]
        return [p for i, v in enumerate(shown) for p in mismatches(v, actual[i], f"{where}[{i}]")]
    if shown != actual or type(shown) is not type(actual):
        return [f"{where}: {actual!r} is not {shown!r}"]
    return []
