"""POST /v1/uploads through the local gateway's event: links point where the API is served.

Before: `status_url` and `Location` were `https://127.0.0.1/v1/...` locally (no port, the
wrong scheme), a link an app could not follow; and then they named whatever `Host` the
client sent (issue 22): now the gateway's own configured address, as API Gateway's own
domain in AWS.
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


def create(
    host: str, extra: list[tuple[str, str]] | None = None, domain: str = "127.0.0.1:3000"
) -> tuple[dict, dict]:
    request = HttpRequest(
        method="POST",
        target="/v1/uploads",
        headers=[("Host", host), ("Content-Type", "application/json"), *(extra or [])],
        body=json.dumps({"filename": "codes.csv", "content_type": "text/csv"}).encode(),
    )
    api = ApiConfig(logical_id="Api", stage="v1")
    event = build_event(request, ROUTE, {}, api=api, domain=domain)
    response = uploads_app.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 201, response["body"]
    return json.loads(response["body"]), response_headers(response)


def test_status_url_and_location_name_the_local_port_and_scheme() -> None:
    body, headers = create("127.0.0.1:3000")
    expected = f"http://127.0.0.1:3000/v1/uploads/{body['upload_id']}"
    assert body["status_url"] == expected
    assert headers["Location"] == expected


def test_another_port_and_host_are_followed() -> None:
    body, _ = create("localhost:8123", domain="localhost:8123")
    assert body["status_url"] == f"http://localhost:8123/v1/uploads/{body['upload_id']}"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1:1"])
def test_a_hostile_host_header_never_reaches_the_links(host: str) -> None:
    body, headers = create(host)
    expected = f"http://127.0.0.1:3000/v1/uploads/{body['upload_id']}"
    assert body["status_url"] == expected
    assert headers["Location"] == expected


def test_a_tls_proxy_in_front_of_the_local_gateway_is_honoured() -> None:
    body, _ = create("dev.example.test", [("X-Forwarded-Proto", "https")], "dev.example.test")
    assert body["status_url"] == f"https://dev.example.test/v1/uploads/{body['upload_id']}"
