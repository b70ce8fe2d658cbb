"""Upload object keys never leave `uploads/`, whatever filename a client sends.

The key of a presigned POST is built by the service; the client's filename is data.
Driven through the uploads handler (POST /uploads, GET /uploads/{id}) against moto.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.context import LambdaContext
from tests.conftest import load_event, response_headers

UPLOADS_BUCKET = "test-uploads"
KEY = re.compile(r"^uploads/[0-9a-f]{32}\.(csv|txt|jpg|png|webp)$")

uploads_app = pytest.importorskip("functions.uploads.app")
if not hasattr(uploads_app, "service"):
    pytest.skip("functions/uploads is still a placeholder", allow_module_level=True)

NAMES = [
    "../../etc/passwd.csv",
    "/etc/passwd.csv",
    "..\\..\\windows\\system32\\codes.csv",
    "uploads/../results/other.csv",
    "results/x.csv",
    "%2e%2e%2fx.csv",
    "．．／．．／x.csv",  # full-width dots and slash (NFKC folds them)
    "codes.csv\u202egpj.exe",  # right-to-left override
    "codes\x00.csv",
    "codes.csv\r\nX-Injected: 1",
    "con.csv",
    "...csv",
    "..",
    ".",
    "/",
    "\\",
    "codes.csv/",
    "~/codes.csv",
    "codes.CSV",
    "ｃｏｄｅｓ．ｃｓｖ",
    "a" * 300 + ".csv",
    "codes.csv" + "\u0301" * 50,
    "😀.csv",
]


@pytest.fixture
def uploads(aws: None, table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    boto3.client("s3").create_bucket(Bucket=UPLOADS_BUCKET)
    monkeypatch.setenv("UPLOADS_BUCKET", UPLOADS_BUCKET)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://api.example.test/v1")
    uploads_app.service.cache_clear()
    yield
    uploads_app.service.cache_clear()


def invoke(method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    event = copy.deepcopy(load_event("lookup_get.json"))
    resource = "/uploads/{id}" if path.count("/") > 1 else "/uploads"
    params = {"id": path.rsplit("/", 1)[1]} if resource.endswith("{id}") else None
    event.update(
        httpMethod=method,
        path=path,
        resource=resource,
        pathParameters=params,
        body=None if body is None else json.dumps(body),
    )
    event["headers"]["Content-Type"] = "application/json"
    response = uploads_app.lambda_handler(event, LambdaContext())
    text = response.get("body") or "null"
    return response["statusCode"], response_headers(response), json.loads(text)


def _policy_conditions(fields: dict[str, str]) -> list[Any]:
    policy = fields.get("policy") or fields.get("Policy")
    assert policy, fields
    conditions: list[Any] = json.loads(base64.b64decode(policy))["conditions"]
    return conditions


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
@pytest.mark.parametrize("content_type", ["text/csv"])
def test_upload_keys_stay_under_uploads(uploads: None, name: str, content_type: str) -> None:
    status, _, body = invoke("POST", "/uploads", {"filename": name, "content_type": content_type})
    assert status in (201, 400, 413, 415, 422), body
    if status != 201:
        assert body["code"] in ("invalid_parameter", "unsupported_type", "payload_too_large")
        return
    fields = body["upload"]["fields"]
    key = fields["key"]
    assert KEY.match(key), key
    # The signed policy pins that exact key: the client cannot swap in another one.
    conditions = _policy_conditions(fields)
    pinned = [c for c in conditions if c in ({"key": key}, ["eq", "$key", key])]
    assert pinned, conditions
    assert not [c for c in conditions if isinstance(c, list) and c[:2] == ["starts-with", "$key"]]
    assert body["upload"]["url"].startswith(("https://", "http://"))
    assert body["upload_id"] in key


@pytest.mark.parametrize(
    "upload_id",
    ["..", "..%2f..%2fresults", "%2e%2e", "0" * 31, "0" * 33, "G" * 32, "../" + "0" * 29],
)
def test_status_ids_are_checked_before_any_lookup(uploads: None, upload_id: str) -> None:
    status, _, body = invoke("GET", f"/uploads/{upload_id}")
    assert status in (400, 404), body
    assert body["code"] in ("invalid_parameter", "not_found")
