"""Schemathesis over the local stack, in the modes the document must pass: response
conformance (status, content type, headers, body schema), positive-data acceptance,
negative-data rejection, undeclared methods (405) and the stateful links (create an
upload -> its status). The document is the one the stack serves (`servers` included).

Bounded by tests/e2e/schemathesis.toml: a few examples per operation and a few
stateful steps, about half a minute in all. Nothing leaves the machine: the stack runs
on loopback with the fake upstreams.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.running import API_KEY, RunningStack

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
PHASES = "examples,coverage,fuzzing,stateful"


def test_the_stack_does_what_its_document_says(stack: RunningStack, tmp_path: Path) -> None:
    pytest.importorskip("schemathesis", minversion="4.0")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{stack.api}/openapi.json",
        "--header",
        f"x-api-key: {API_KEY}",
        "--phases",
        PHASES,
        "--workers",
        "1",
    ]
    done = subprocess.run(
        command,
        cwd=tmp_path,  # its cache folder goes there, not into the repository
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
        check=False,
    )
    report = done.stdout[-20000:] + done.stderr[-5000:]
    assert done.returncode == 0, report
    assert "Stateful" in report, report
    assert "API Links:" in report, report
