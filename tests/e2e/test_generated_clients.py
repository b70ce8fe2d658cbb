"""Clients generated from the document the local stack serves make real calls (issue 27).

A Python client (openapi-python-client, with clients/python's config and endpoint
template) and a TypeScript client (types by openapi-typescript through
clients/typescript/generate.mjs, calls by openapi-fetch, compiled by the pinned tsc) are
generated from `GET /v1/openapi.json`; each makes a lookup, a generate as JSON, as image
bytes and as a redirect, a scan of scanner text and of a photo, and an upload followed
to its result, against the stack. Generation must print no warning.

The tools are installed before the tests run, never by them: openapi-python-client by
`make install` (.venv-docs), the TypeScript tools by `make unit` from clients/typescript's
lockfile into .local/clients/typescript. A missing tool fails the test, naming it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fake_upstreams import FOUND_CODE
from tests.e2e.running import API_KEY, ROOT, RunningStack

pytestmark = pytest.mark.e2e

CLIENTS = ROOT / "clients"
HERE = Path(__file__).resolve().parent / "clients"
DOCS_BIN = ROOT / ".venv-docs" / "bin"
NODE_TOOLS = ROOT / ".local" / "clients" / "typescript"
PHOTO = ROOT / "docs" / "examples" / "ean13.png"  # an EAN-13 of FOUND_CODE
TIMEOUT = 300


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def needed(path: Path | str | None, why: str) -> str:
    if path is None or not Path(path).exists():
        pytest.fail(f"{why} is missing ({path}); {needs_hint(why)}")
    return str(path)


def needs_hint(why: str) -> str:
    if why.startswith("node"):
        return "install Node.js 20 and npm (apt-get install nodejs npm; .ci/run does it)"
    if why.startswith("npm"):
        return "run `make unit` (it installs clients/typescript's lockfile with npm)"
    return "run `make install` (requirements-docs.txt into .venv-docs)"


def typescript_tools() -> Path:
    """openapi-typescript, openapi-fetch and tsc, as `make unit` installed them."""
    needed(NODE_TOOLS / ".installed", "npm's install of clients/typescript")
    # Beside its node_modules, so that its imports resolve there.
    shutil.copy(CLIENTS / "typescript" / "generate.mjs", NODE_TOOLS / "generate.mjs")
    return NODE_TOOLS


def check_answers(answers: dict[str, Any]) -> None:
    gtin = "0" + FOUND_CODE
    assert answers["lookup"] == {"status": 200, "gtin": gtin}
    assert answers["generate_json"]["format"] == "png"
    assert answers["generate_image"]["status"] == 200
    assert answers["generate_image"]["mime_type"].startswith("image/png")
    assert answers["generate_image"]["magic"] == b"\x89PNG".hex()
    assert answers["generate_redirect"] == {"status": 302, "location": True}
    assert answers["scan_text"] == [[gtin, "found"]]
    assert [gtin, "found"] in answers["scan_photo"]
    assert answers["upload"]["status"] == "done", answers["upload"]
    assert answers["upload"]["rows"]["found"] == 1, answers["upload"]


def test_a_python_client_generated_from_the_served_document(
    stack: RunningStack, tmp_path: Path
) -> None:
    generator = needed(DOCS_BIN / "openapi-python-client", "openapi-python-client")
    python = needed(DOCS_BIN / "python", "the docs venv's python")
    # The generator formats its output with ruff, found on PATH: the docs venv's own.
    env = {**os.environ, "PATH": f"{DOCS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    printed = run(
        [
            generator,
            "generate",
            "--url",
            f"{stack.api}/openapi.json",
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "barcode_client"),
            "--config",
            str(CLIENTS / "python" / "config.yml"),
            "--custom-template-path",
            str(CLIENTS / "python" / "templates"),
        ],
        cwd=tmp_path,
        env=env,
    )
    assert printed.splitlines() == [f"Generating {tmp_path / 'barcode_client'}"], printed
    script = HERE / "python_calls.py"
    answers = run(
        [python, str(script), str(tmp_path), stack.api, API_KEY, FOUND_CODE, str(PHOTO)],
        cwd=tmp_path,
    )
    check_answers(json.loads(answers))


def test_a_typescript_client_generated_from_the_served_document(
    stack: RunningStack, tmp_path: Path
) -> None:
    node = needed(shutil.which("node"), "node")
    tools = typescript_tools()
    printed = run(
        [node, str(tools / "generate.mjs"), f"{stack.api}/openapi.json", "schema.d.ts"],
        cwd=tmp_path,
    )
    assert printed == "", printed
    for name in ("calls.ts", "tsconfig.json"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    (tmp_path / "node_modules").symlink_to(tools / "node_modules")
    compiled = run([str(tools / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json"], tmp_path)
    assert compiled == "", compiled
    answers = run(
        [node, "out/calls.js", stack.api, API_KEY, FOUND_CODE, str(PHOTO)],
        cwd=tmp_path,
    )
    check_answers(json.loads(answers))
