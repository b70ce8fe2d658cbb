"""Logs that say what matters: no WARNING per keyless generate, no empty-metrics warning.

Before: every generate request of a deployment (or `make run`) without a GuGuData
appkey logged "generation upstream failed; rendering locally" at WARNING, and every
invocation that added no metric printed Powertools' "No application metrics to
publish" UserWarning.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import responses

from functions.generate import app
from local.context import LambdaContext
from tests.conftest import SECRET, load_event

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "test-images"


@pytest.fixture
def keyless(aws: None, table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    keys = {"generate": {"appkey": ""}, "lookup": {"api_key": "", "secret_key": ""}}
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(keys))
    monkeypatch.setenv("IMAGES_BUCKET", BUCKET)
    monkeypatch.setenv("GENERATE_BACKEND", "auto")
    app.service.cache_clear()
    # Nothing may reach the upstream: without a key there is nothing to ask it.
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        yield
    app.service.cache_clear()


def test_keyless_generate_says_so_once_at_info(
    keyless: None, caplog: pytest.LogCaptureFixture
) -> None:
    for content in ("6901234567892", "4006381333931", "9780306406157"):
        event = load_event("generate_get.json")
        event["queryStringParameters"] = {**event["queryStringParameters"], "content": content}
        event["multiValueQueryStringParameters"] = {
            k: [v] for k, v in event["queryStringParameters"].items()
        }
        response = app.lambda_handler(event, LambdaContext())
        assert response["statusCode"] == 200, response["body"]
        assert json.loads(response["body"])["backend"] == "local"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    noted = [r for r in caplog.records if "no generation appkey" in r.getMessage()]
    assert len(noted) == 1
    assert noted[0].levelname == "INFO"


def test_an_invocation_without_metrics_prints_no_powertools_warning() -> None:
    """In a fresh interpreter with every warning shown (pytest's own filters hide it)."""
    script = (
        "import json, sys\n"
        "from functions.lookup import app\n"
        "from local.context import LambdaContext\n"
        "event = json.load(open('events/api_health.json'))\n"
        "for _ in range(3):\n"
        "    assert app.lambda_handler(event, LambdaContext())['statusCode'] == 200\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}{os.pathsep}{ROOT}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "barcode-test",
        "POWERTOOLS_METRICS_NAMESPACE": "BarcodeTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "No application metrics to publish" not in done.stderr
    assert "No application metrics to publish" not in done.stdout
