"""The shipped OpenAPI document describes exactly the template's routes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from barcode_service.openapi import openapi_document
from tests.conftest import ROOT

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def template_routes(sam_template: dict[str, Any]) -> set[tuple[str, str]]:
    """The routes of the template, without the `any` methods that only answer 405."""
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for resource in sam_template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Api" and event["Properties"]["Method"].lower() != "any"
    }


def document_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_document_routes_equal_template_routes(sam_template: dict[str, Any]) -> None:
    document = openapi_document()
    # Paths are relative to the stage: every server URL ends in /v1.
    assert document["servers"]
    assert all(server["url"].endswith("/v1") for server in document["servers"])
    assert not any(path.startswith("/v1") for path in document["paths"])
    assert document_routes(document) == template_routes(sam_template)


def test_document_is_valid_openapi_30() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    document = openapi_document()
    assert document["openapi"].startswith("3.0.")
    validator.validate(document)


def test_api_key_everywhere_but_health() -> None:
    document = openapi_document()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert document["security"] == [{"ApiKey": []}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path in ("/health", "/openapi.json", "/docs", "/docs/{name}"):
                assert operation["security"] == [], f"{path} needs no key"
            else:
                assert "security" not in operation, (method, path)


def test_errors_are_problem_json() -> None:
    document = openapi_document()
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) >= {"type", "title", "status", "detail", "code"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                resolved = response
                if "$ref" in response:
                    name = response["$ref"].rsplit("/", 1)[-1]
                    resolved = document["components"]["responses"][name]
                assert list(resolved["content"]) == ["application/problem+json"], (method, path)
                if status in ("429", "503"):
                    assert "Retry-After" in resolved["headers"], (method, path, status)


def test_each_call_returns_a_fresh_copy() -> None:
    first = openapi_document()
    first["paths"].clear()
    assert openapi_document()["paths"]


def test_file_answers_are_bytes_and_their_redirect_is_declared() -> None:
    """Generators return bytes for `format: binary`: every image, PDF and EPS answer says
    so, and an operation that answers a file also declares the 302 it gives instead when
    the request's first Accept type is not the file's (docs/clients.md)."""
    document = openapi_document()
    files = {"image/png", "image/svg+xml", "application/pdf", "application/postscript"}
    answering_files = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation["responses"].get("200", {}).get("content", {})
            for media_type in files & set(content):
                assert content[media_type]["schema"] == {"type": "string", "format": "binary"}
                answering_files.add((method, path))
            if (method, path) in answering_files:
                moved = operation["responses"]["302"]
                assert "Location" in moved["headers"], (method, path)
                assert "Accept" in moved["description"], (method, path)
    assert answering_files == {("get", "/barcodes"), ("post", "/barcodes"), ("post", "/labels")}


def test_the_documents_version_is_the_changelogs_latest() -> None:
    """CHANGELOG.md (Keep a Changelog) and `info.version` name the same API version."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert released, "no release heading"
    assert released == sorted(released, key=lambda v: tuple(map(int, v.split("."))))[::-1]
    assert openapi_document()["info"]["version"] == released[0]
