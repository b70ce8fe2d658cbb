"""A deployment without a GuGuData appkey: what its first generate request loads and reads.

Each case is a fresh interpreter (what a cold start loads cannot be seen in this one,
which has imported everything already): moto in-process, the template's table, a
bucket and a secret whose appkey is empty, then the first GET /barcodes of a code
nobody asked before, through the generate handler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
from moto import mock_aws
import boto3

with mock_aws():
    from tests.conftest import SECRET, TABLE, _template_resolver, load_event
    from local.resources import create_table
    create_table(_template_resolver(), "CacheTable", TABLE, boto3.client)
    boto3.client("s3").create_bucket(Bucket="images")
    boto3.client("secretsmanager").create_secret(
        Name=SECRET, SecretString=json.dumps({"generate": {"appkey": ""}})
    )
    from barcode_service.credentials import SecretStore
    reads = []
    document = SecretStore._document
    SecretStore._document = lambda self, refresh: reads.append(1) or document(self, refresh)
    from functions.generate import app
    from local.context import LambdaContext
    answer = app.lambda_handler(load_event("generate_get.json"), LambdaContext())
    print(json.dumps({
        "status": answer["statusCode"],
        "backend": json.loads(answer["body"]).get("backend"),
        "secret_reads": len(reads),
        "pydantic": "pydantic" in sys.modules,
    }))
"""


def first_request(backend: str) -> dict[str, object]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)]),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "CACHE_TABLE": "test-cache",
        "SECRET_ID": "test/barcode-backend/upstreams",
        "IMAGES_BUCKET": "images",
        "GENERATE_BACKEND": backend,
    }
    env.pop("AWS_ENDPOINT_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_local_backend_reads_no_secret_and_imports_no_pydantic() -> None:
    answer = first_request("local")
    assert answer == {"status": 200, "backend": "local", "secret_reads": 0, "pydantic": False}


def test_auto_without_a_key_reads_the_secret_once_and_imports_no_pydantic() -> None:
    """`auto` must read the secret to learn there is no appkey; it renders locally then,
    without loading the credentials' pydantic models."""
    answer = first_request("auto")
    assert answer == {"status": 200, "backend": "local", "secret_reads": 1, "pydantic": False}


def test_the_local_stack_renders_locally_without_an_appkey() -> None:
    """`make run` without GENERATE_APPKEY knows it has no key: GENERATE_BACKEND=local."""
    from local.stack import keyless_generation

    environment = {"GENERATE_BACKEND": "auto"}
    assert "GENERATE_APPKEY" in keyless_generation(environment, {})
    assert environment["GENERATE_BACKEND"] == "local"
    for shell in ({"GENERATE_APPKEY": "k"}, {"GENERATE_BACKEND": "auto"}):
        environment = {"GENERATE_BACKEND": "auto"}
        assert keyless_generation(environment, shell) == ""
        assert environment["GENERATE_BACKEND"] == "auto"
