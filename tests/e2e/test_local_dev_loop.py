"""What an app developer does with `make run`, against the stack in a subprocess.

The printed upload example is run as printed (in an empty directory: it must write no
files there) and must follow `status_url`; the presigned POST refuses what S3 refuses.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.e2e.running import API_KEY, ROOT, TIMEOUT, RunningStack
from tests.e2e.stack_process import new_csv_upload

pytestmark = pytest.mark.e2e


def printed_upload_example(output: list[str]) -> str:
    lines = "".join(output).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("UPLOAD=$("))
    end = next(i for i, line in enumerate(lines) if i > start and "status_url" in line)
    return "\n".join(line.strip() for line in lines[start : end + 1])


def test_printed_upload_example_follows_status_url_and_writes_no_files(
    stack: RunningStack, tmp_path: Path
) -> None:
    script = printed_upload_example(stack.output)
    assert "upload.json" not in script
    assert "> codes.csv" not in script
    assert "status_url" in script  # the link is followed, not rebuilt by hand
    done = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["status"] in ("pending", "processing", "done")
    assert job["filename"] == "codes.csv"
    assert list(tmp_path.iterdir()) == []


def test_status_url_and_location_are_the_served_base(stack: RunningStack) -> None:
    response = requests.post(
        f"{stack.api}/uploads",
        headers={"x-api-key": API_KEY},
        json={"filename": "codes.csv", "content_type": "text/csv"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status_url"] == f"{stack.api}/uploads/{body['upload_id']}"
    assert response.headers["Location"] == body["status_url"]
    followed = requests.get(body["status_url"], headers={"x-api-key": API_KEY}, timeout=TIMEOUT)
    assert followed.status_code == 200
    assert followed.json()["status"] == "pending"


def test_the_presigned_post_refuses_an_empty_file_and_nothing_is_processed(
    stack: RunningStack,
) -> None:
    created = new_csv_upload(stack.running, API_KEY)
    upload = created["upload"]
    refused = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("codes.csv", b"")}, timeout=TIMEOUT
    )
    assert refused.status_code == 400
    assert b"<Code>EntityTooSmall</Code>" in refused.content
    job = requests.get(created["status_url"], headers={"x-api-key": API_KEY}, timeout=TIMEOUT)
    assert job.json()["status"] == "pending"


def readme_quick_start() -> str:
    """The shell blocks of README's quick start that run in the second terminal, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Five-minute quick start", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```sh\n")[1:]
    return "".join(block.split("```", 1)[0] for block in blocks[1:])


def test_readme_quick_start_runs_as_written(stack: RunningStack, tmp_path: Path) -> None:
    script = readme_quick_start()
    assert "BASE=http://127.0.0.1:3000/v1" in script
    assert "KEY=$(cat .local/api-key)" in script
    # The same commands against this test's stack and key.
    script = script.replace("BASE=http://127.0.0.1:3000/v1", f"BASE={stack.api}")
    script = script.replace("KEY=$(cat .local/api-key)", f"KEY={API_KEY}")
    env = {
        **os.environ,
        "TMPDIR": str(tmp_path),
        "LOCAL_STATE_DIR": str(stack.running.state_dir),
    }
    done = subprocess.run(
        ["bash", "-euc", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '{"status":"ok"}' in done.stdout.replace(" ", "")
    assert '"source":"catalog"' in done.stdout.replace(" ", "")
    assert '"url":"http' in done.stdout.replace(" ", "")  # local or upstream: keys differ
    assert (tmp_path / "ean13.png").read_bytes()[:4] == b"\x89PNG"


def test_no_printed_command_writes_into_the_current_directory(stack: RunningStack) -> None:
    commands = [line.strip() for line in "".join(stack.output).splitlines() if "curl" in line]
    assert commands
    for command in commands:
        assert " > " not in command
        assert "tee " not in command
        if " -o " in command:
            assert '-o "${TMPDIR:-/tmp}/' in command, command
