"""The OpenAPI document is the truth: served public with the base URL that serves it, its
routes are the resolvers' routes, and the statuses the handlers answer are in it; the
explorer page and its assets are served by us."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from barcode_service.openapi import openapi_document
from functions.generate import app as generate_app
from functions.lookup import app as lookup_app
from functions.uploads import app as uploads_app
from local.context import LambdaContext
from tests.conftest import load_event, response_headers

APPS = (lookup_app, generate_app, uploads_app)
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    for module in APPS:
        module.service.cache_clear()
    yield
    for module in APPS:
        module.service.cache_clear()


def call(module: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    response = module.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), response["body"]


def with_headers(event: dict[str, Any], **headers: str) -> dict[str, Any]:
    event = copy.deepcopy(event)
    for raw, value in headers.items():
        name = raw.replace("_", "-")
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event


def resolver_routes() -> set[tuple[str, str]]:
    """Every (method, path) the three API functions route, in the document's spelling."""
    found = set()
    for module in APPS:
        routes = [*module.app._static_routes, *module.app._dynamic_routes]
        for route in routes:
            path = re.sub(r"<(\w+)>", r"{\1}", route.path)
            found.add((route.method, path.replace("{upload_id}", "{id}")))
    return found


def document_routes() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in METHODS
    }


def test_the_document_lists_exactly_the_routes_the_functions_serve() -> None:
    assert document_routes() == resolver_routes()


def test_the_document_is_served_public_naming_the_url_that_serves_it() -> None:
    event = with_headers(
        load_event("api_openapi.json"), Host="127.0.0.1:4321", X_Forwarded_Proto="http"
    )
    # The local gateway's own address (API Gateway's own domain): never the Host header.
    event["requestContext"]["domainName"] = "127.0.0.1:4321"
    for name in ("x-api-key",):
        event["headers"].pop(name, None)
        event["multiValueHeaders"].pop(name, None)
    status, headers, body = call(lookup_app, event)
    assert status == 200
    document = json.loads(body)
    assert document["servers"] == [{"url": "http://127.0.0.1:4321/v1", "description": "this API"}]
    assert headers["ETag"]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []


def test_the_stage_url_in_aws() -> None:
    status, _, body = call(lookup_app, load_event("api_openapi.json"))
    assert status == 200
    servers = json.loads(body)["servers"]
    assert servers[0]["url"] == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1"


def test_public_base_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://api.example.com/v1/")
    from barcode_service.settings import get_settings

    get_settings.cache_clear()
    _, _, body = call(lookup_app, load_event("api_openapi.json"))
    assert json.loads(body)["servers"][0]["url"] == "https://api.example.com/v1"


def test_the_explorer_page_and_its_assets_come_from_us() -> None:
    status, headers, page = call(lookup_app, load_event("api_docs.json"))
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert 'src="docs/swagger-ui-bundle.js"' in page
    assert "//" not in re.sub(r"<!DOCTYPE[^>]*>", "", page).replace("data:,", "")  # no CDN
    for name, kind in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("explorer.js", "text/javascript"),
    ):
        event = load_event("api_docs_asset.json")
        event["path"] = f"/docs/{name}"
        event["requestContext"]["path"] = f"/v1/docs/{name}"
        event["pathParameters"] = {"name": name}
        status, headers, body = call(lookup_app, event)
        assert status == 200, name
        assert headers["Content-Type"].startswith(kind), name
        assert len(body) > 100, name
    event = load_event("api_docs_asset.json")
    event["path"] = "/docs/nope.js"
    status, _, _ = call(lookup_app, event)
    assert status == 404


def _documented(path: str, method: str) -> set[str]:
    return set(openapi_document()["paths"][path][method]["responses"])


@pytest.mark.parametrize(
    ("module", "event_name", "changes", "path", "method", "status"),
    [
        (generate_app, "generate_get.json", {"httpMethod": "DELETE"}, "/barcodes", "get", 405),
        (lookup_app, "lookup_batch_not_json.json", {}, "/products/lookup", "post", 415),
        (
            uploads_app,
            "uploads_status.json",
            {"pathParameters": {"id": "x"}},
            "/uploads/{id}",
            "get",
            400,
        ),
        (
            generate_app,
            "generate_types.json",
            {"If-None-Match": "*"},
            "/barcodes/types",
            "get",
            304,
        ),
        (lookup_app, "api_docs.json", {"If-None-Match": "*"}, "/docs", "get", 304),
    ],
)
def test_statuses_the_handlers_answer_are_documented(  # noqa: PLR0917 - parametrised
    table: str,
    module: Any,
    event_name: str,
    changes: dict[str, Any],
    path: str,
    method: str,
    status: int,
) -> None:
    event = load_event(event_name)
    for key, value in changes.items():
        if key[0].isupper():
            event = with_headers(event, **{key: value})
        else:
            event[key] = value
    if "pathParameters" in changes:
        event["path"] = "/uploads/x"
    got, _, _ = call(module, event)
    assert got == status
    assert str(status) in _documented(path, method)
