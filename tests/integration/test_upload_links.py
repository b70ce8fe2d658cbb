"""POST /v1/uploads through the local gateway's event: links point where the request went.

Before: `status_url` and `Location` were `https://127.0.0.1/v1/...` locally (no port, the
wrong scheme), a link an app could not follow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from functions.uploads import app as uploads_app
from local.context import LambdaContext
from local.gateway import ApiConfig, HttpRequest, Route, build_event
from tests.conftest import response_headers

BUCKET = "local-uploads-bucket"
ROUTE = Route(
    api="Api",
    stage="v1",
    resource="/uploads",
    method="POST",
    function="Uploads",
    api_key_required=True,
)


@pytest.fixture(autouse=True)
def uploads(table: str, secret: dict, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("UPLOADS_BUCKET", BUCKET)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    uploads_app.service.cache_clear()
    yield
    uploads_app.service.cache_clear()


def create(host: str, extra: list[tuple[str, str]] | None = None) -> tuple[dict, dict]:
    request = HttpRequest(
        method="POST",
        target="/v1/uploads",
        headers=[("Host", host), ("Content-Type", "application/json"), *(extra or [])],
        body=json.dumps({"filename": "codes.csv", "content_type": "text/csv"}).encode(),
    )
    event = build_event(request, ROUTE, {}, api=ApiConfig(logical_id="Api", stage="v1"))
    response = uploads_app.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 201, response["body"]
    return json.loads(response["body"]), response_headers(response)


def test_status_url_and_location_name_the_local_port_and_scheme() -> None:
    body, headers = create("127.0.0.1:3000")
    expected = f"http://127.0.0.1:3000/v1/uploads/{body['upload_id']}"
    assert body["status_url"] == expected
    assert headers["Location"] == expected


def test_another_port_and_host_are_followed() -> None:
    body, _ = create("localhost:8123")
    assert body["status_url"] == f"http://localhost:8123/v1/uploads/{body['upload_id']}"


def test_a_tls_proxy_in_front_of_the_local_gateway_is_honoured() -> None:
    body, _ = create("dev.example.test", [("X-Forwarded-Proto", "https")])
    assert body["status_url"] == f"https://dev.example.test/v1/uploads/{body['upload_id']}"
