"""`make run` keeps its state across restarts, `LOCAL_CLEAN=1` starts empty, and the
documented one-liner imports a catalog into the running stack.

Start, write (catalog import, an upload processed to the end, a generated image, the
upstream credentials), stop, start again without the credentials in the shell, read
it all back; then start clean. Before: every restart started from nothing, and a local
catalog import needed the moto endpoint and credentials by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.fake_upstreams import APPKEY, FakeUpstreams
from tests.e2e.running import RunningStack
from tests.e2e.stack_process import (
    ROOT,
    StackDidNotStart,
    StackProcess,
    local_stack,
    new_csv_upload,
)

pytestmark = pytest.mark.e2e

API_KEY = "e2e-restart-key"
TIMEOUT = 30
CATALOG_CODE = "4006381333931"


def started(upstreams: FakeUpstreams, home: Path, **env: str) -> Any:
    try:
        return local_stack(upstreams, home, API_KEY, state_dir=home / "kept", extra_env=env)
    except StackDidNotStart as error:  # pragma: no cover - the message is the point
        pytest.fail(f"the local stack did not print READY:\n{error}")


def get(stack: StackProcess, path: str) -> requests.Response:
    return requests.get(f"{stack.api}{path}", headers={"x-api-key": API_KEY}, timeout=TIMEOUT)


def upload_list(stack: StackProcess) -> str:
    created = new_csv_upload(stack, API_KEY)
    upload = created["upload"]
    sent = requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("codes.csv", f"code\n{CATALOG_CODE}\n".encode())},
        timeout=TIMEOUT,
    )
    assert sent.status_code == 204, sent.text
    for _ in range(300):  # bounded: at most ~30 s
        if get(stack, f"/uploads/{created['upload_id']}").json()["status"] == "done":
            return str(created["upload_id"])
        time.sleep(0.1)
    pytest.fail("the upload was not processed")


def kept_secret(home: Path) -> dict[str, Any]:
    running = json.loads((home / "kept" / "running.json").read_text())
    client = boto3.client(
        "secretsmanager",
        endpoint_url=running["aws_endpoint_url"],
        region_name=running["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    secret_id = next(iter(n for n in running["resources"].values() if "Secret" in n))
    value: dict[str, Any] = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
    return value


def test_state_survives_a_restart_and_clean_starts_empty(
    upstreams: FakeUpstreams, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(f"code,name,brand\n{CATALOG_CODE},Stabilo Boss,Stabilo\n", encoding="utf-8")

    with started(upstreams, tmp_path) as first:
        imported = subprocess.run(
            [sys.executable, "-m", "scripts.import_catalog", "--local", str(catalog)],
            cwd=ROOT,
            env={**os.environ, "LOCAL_STATE_DIR": str(tmp_path / "kept")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert imported.returncode == 0, imported.stderr
        assert "1 written" in imported.stdout
        product = get(first, f"/products/{CATALOG_CODE}").json()
        assert product["source"] == "catalog"
        upload_id = upload_list(first)
        job = get(first, f"/uploads/{upload_id}").json()
        image = get(first, "/barcodes?type=qr&content=kept&width=200&height=200").json()
        assert requests.get(image["url"], timeout=TIMEOUT).status_code == 200
    assert first.exit_code == 0

    # Started again without the upstream credentials in the shell: they are kept too.
    with started(
        upstreams, tmp_path, GENERATE_APPKEY="", LOOKUP_API_KEY="", LOOKUP_SECRET_KEY=""
    ) as second:
        assert any("kept across restarts" in line for line in second.output)
        again = get(second, f"/products/{CATALOG_CODE}").json()
        assert again["source"] == "catalog"
        assert {**again, "fetched_at": None} == {**product, "fetched_at": None}
        kept_job = get(second, f"/uploads/{upload_id}").json()
        assert kept_job["status"] == "done"
        assert kept_job["counts"] == job["counts"]
        assert kept_secret(tmp_path)["generate"]["appkey"] == APPKEY
        cached = get(second, "/barcodes?type=qr&content=kept&width=200&height=200").json()
        assert cached["url"] == image["url"]
        assert requests.get(cached["url"], timeout=TIMEOUT).status_code == 200

    with started(upstreams, tmp_path, LOCAL_CLEAN="1") as clean:
        assert get(clean, f"/uploads/{upload_id}").status_code == 404
        assert get(clean, f"/products/{CATALOG_CODE}").json().get("source") != "catalog"


def test_import_without_a_running_stack_says_so(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(f"code,name\n{CATALOG_CODE},x\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "scripts.import_catalog", "--local", str(catalog)],
        cwd=ROOT,
        env={**os.environ, "LOCAL_STATE_DIR": str(tmp_path / "none")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "start `make run`" in done.stderr


def test_a_state_that_cannot_be_loaded_stops_the_start_and_is_not_overwritten(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "kept" / "dynamodb" / "CacheTable.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("[{not json", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PORT": "0",
        "LOCAL_API_KEY": API_KEY,
        "LOCAL_STATE_DIR": str(tmp_path / "kept"),
        "LOCAL_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "local.stack"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "could not be loaded" in done.stderr
    assert "--clean" in done.stderr
    assert broken.read_text(encoding="utf-8") == "[{not json"


def test_a_second_stack_on_the_same_state_is_refused(stack: RunningStack, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PORT": "0",
        "LOCAL_API_KEY": API_KEY,
        "LOCAL_STATE_DIR": str(stack.running.state_dir),
        "LOCAL_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "local.stack"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "another local stack" in done.stderr
    assert (stack.running.state_dir / "running.json").is_file()  # the first one's, untouched
    assert get(stack.running, "/health").status_code == 200
