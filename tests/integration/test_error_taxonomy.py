"""One error taxonomy on every route: field errors name their field (`invalid_params`), the
same mistake has the same `code` everywhere, 405 + Allow, 415, unknown parameters refused,
problems in English or Simplified Chinese by Accept-Language, JSON in raw UTF-8."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from functions.generate import app as generate_app
from functions.lookup import app as lookup_app
from functions.uploads import app as uploads_app
from local.context import LambdaContext
from tests.conftest import create_cache_table, load_event, response_headers
from tests.support.upstreams import BAICHUAN_URL, baichuan_found

REFERENCE = load_event("api_health.json")
APPS = {"lookup": lookup_app, "generate": generate_app, "uploads": uploads_app}


@pytest.fixture(autouse=True)
def _fresh_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GENERATE_BACKEND", "local")
    for module in APPS.values():
        module.service.cache_clear()
    yield
    for module in APPS.values():
        module.service.cache_clear()


def event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    made = copy.deepcopy(REFERENCE)
    made.update(
        path=path,
        resource=resource or path,
        httpMethod=method,
        body=body,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters=path_parameters,
    )
    for name, value in (headers or {}).items():
        made["headers"][name] = value
        made["multiValueHeaders"][name] = [value]
    made["requestContext"].update(httpMethod=method, resourcePath=resource or path)
    made["requestContext"]["identity"]["apiKeyId"] = "taxonomy-key-id"
    return made


def call(function: str, request: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    response = APPS[function].lambda_handler(request, LambdaContext())
    return response["statusCode"], response_headers(response), response["body"]


def problem(function: str, request: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    status, headers, body = call(function, request)
    assert headers["Content-Type"] == "application/problem+json", (status, body)
    parsed = json.loads(body)
    assert parsed["status"] == status
    assert parsed["type"] == f"https://barcode-backend.dev/problems/{parsed['code']}"
    return status, headers, parsed


def json_post(path: str, body: Any, content_type: str = "application/json") -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return event("POST", path, body=text, headers={"Content-Type": content_type})


EAN_BAD_CHECK = "6901234567891"


# --- the same code for the same mistake ------------------------------------------------


def test_a_wrong_check_digit_is_invalid_gtin_in_lookups_and_in_generate() -> None:
    lookup = event(
        "GET",
        f"/products/{EAN_BAD_CHECK}",
        resource="/products/{code}",
        path_parameters={"code": EAN_BAD_CHECK},
    )
    _, _, looked_up = problem("lookup", lookup)
    generate = event(
        "GET",
        "/barcodes",
        query={"type": "ean13", "content": EAN_BAD_CHECK, "width": "300", "height": "150"},
    )
    _, _, generated = problem("generate", generate)
    assert looked_up["code"] == generated["code"] == "invalid_gtin"
    assert looked_up["invalid_params"][0]["name"] == "code"
    assert generated["invalid_params"][0]["name"] == "content"


def test_a_wrong_check_digit_in_a_batch_row_is_invalid_gtin_too(aws: None) -> None:
    request = {"type": "ean13", "content": EAN_BAD_CHECK, "width": 300, "height": 150}
    status, _, body = call("generate", json_post("/barcodes/batch", {"requests": [request]}))
    assert status == 200
    row = json.loads(body)["results"][0]
    assert row["problem"]["code"] == "invalid_gtin"
    assert row["problem"]["invalid_params"][0]["name"] == "content"


# --- invalid_params on every route -------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "request_", "field"),
    [
        ("lookup", json_post("/products/lookup", {"codes": "6901234567892"}), "codes"),
        ("lookup", json_post("/products/lookup", {"codes": [None]}), "codes[0]"),
        ("lookup", json_post("/scans", {"text": ""}), "text"),
        ("lookup", json_post("/scans", {"text": "x", "format": 7}), "format"),
        ("uploads", json_post("/uploads", {"content_type": "text/csv"}), "filename"),
        ("uploads", json_post("/uploads", {"filename": "a.csv"}), "content_type"),
        (
            "uploads",
            json_post("/uploads", {"filename": "a.gif", "content_type": "image/gif"}),
            "content_type",
        ),
        (
            "uploads",
            event(
                "GET",
                "/uploads/not-an-id",
                resource="/uploads/{id}",
                path_parameters={"id": "not-an-id"},
            ),
            "id",
        ),
        ("generate", event("GET", "/barcodes", query={"type": "nope", "content": "1"}), "type"),
        (
            "generate",
            event(
                "GET",
                "/barcodes",
                query={"type": "ean13", "content": "6901234567892", "width": "9", "height": "150"},
            ),
            "width",
        ),
    ],
)
def test_field_errors_name_their_field(
    table: str, function: str, request_: dict[str, Any], field: str
) -> None:
    status, _, body = problem(function, request_)
    assert 400 <= status < 500
    assert field in [param["name"] for param in body["invalid_params"]], body
    assert all(set(param) == {"name", "reason"} for param in body["invalid_params"])


def test_a_null_code_is_a_field_error_not_the_code_none(table: str) -> None:
    status, _, body = problem("lookup", json_post("/products/lookup", {"codes": [None, {}]}))
    assert status == 400
    assert body["code"] == "invalid_parameter"
    assert [p["name"] for p in body["invalid_params"]] == ["codes[0]", "codes[1]"]
    assert "None" not in json.dumps(body)


# --- unknown parameters are refused ------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "request_", "name"),
    [
        (
            "generate",
            event(
                "GET",
                "/barcodes",
                query={
                    "type": "ean13",
                    "content": "6901234567892",
                    "width": "300",
                    "height": "150",
                    "color": "red",
                },
            ),
            "color",
        ),
        (
            "generate",
            json_post(
                "/barcodes",
                {"type": "qrcode", "content": "x", "width": 100, "height": 100, "colour": "r"},
            ),
            "colour",
        ),
        ("generate", event("GET", "/barcodes/types", query={"page": "2"}), "page"),
        (
            "lookup",
            event(
                "GET",
                "/products/6901234567892",
                resource="/products/{code}",
                path_parameters={"code": "6901234567892"},
                query={"fields": "name"},
            ),
            "fields",
        ),
        ("lookup", json_post("/products/lookup", {"codes": ["1"], "fast": True}), "fast"),
        ("lookup", json_post("/scans", {"text": "6901234567892", "mode": "x"}), "mode"),
        ("lookup", event("GET", "/health", query={"verbose": "1"}), "verbose"),
        (
            "uploads",
            json_post("/uploads", {"filename": "a.csv", "content_type": "text/csv", "n": 1}),
            "n",
        ),
    ],
)
def test_unknown_parameters_are_refused(
    table: str, function: str, request_: dict[str, Any], name: str
) -> None:
    status, _, body = problem(function, request_)
    assert status == 400
    assert body["code"] == "invalid_parameter"
    assert {"name": name, "reason": "unknown parameter"} in body["invalid_params"]


def test_unknown_members_of_a_batch_request_are_refused_in_their_row(aws: None) -> None:
    good = {"type": "qrcode", "content": "x", "width": 100, "height": 100}
    batch = {"requests": [{**good, "response": "image"}]}
    status, _, body = call("generate", json_post("/barcodes/batch", batch))
    assert status == 200
    row = json.loads(body)["results"][0]
    assert row["status"] == 400
    assert row["problem"]["invalid_params"] == [{"name": "response", "reason": "unknown parameter"}]


# --- 405 and 415 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "method", "path", "resource", "allow"),
    [
        ("generate", "DELETE", "/barcodes", "/barcodes", "GET, OPTIONS, POST"),
        ("generate", "GET", "/barcodes/batch", "/barcodes/batch", "OPTIONS, POST"),
        ("lookup", "POST", "/health", "/health", "GET, OPTIONS"),
        ("lookup", "PUT", "/products/123", "/products/{code}", "GET, OPTIONS, POST"),
        ("uploads", "GET", "/uploads", "/uploads", "OPTIONS, POST"),
        ("uploads", "DELETE", "/uploads/" + "a" * 32, "/uploads/{id}", "GET, OPTIONS"),
    ],
)
def test_a_known_path_with_another_method_is_405_with_allow(
    function: str, method: str, path: str, resource: str, allow: str
) -> None:
    status, headers, body = problem(function, event(method, path, resource=resource))
    assert status == 405
    assert body["code"] == "method_not_allowed"
    assert headers["Allow"] == allow


def test_an_unknown_path_is_still_404() -> None:
    status, _, body = problem("lookup", event("GET", "/nowhere"))
    assert (status, body["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("function", "path"),
    [
        ("lookup", "/products/lookup"),
        ("lookup", "/scans"),
        ("generate", "/barcodes"),
        ("generate", "/barcodes/batch"),
        ("uploads", "/uploads"),
    ],
)
def test_a_wrong_content_type_is_415(function: str, path: str) -> None:
    request_ = json_post(path, "codes=1", content_type="text/plain")
    status, _, body = problem(function, request_)
    assert (status, body["code"]) == (415, "unsupported_media_type")


def test_a_json_suffix_media_type_is_json(table: str) -> None:
    request_ = json_post("/products/lookup", {"codes": ["abc"]}, "application/vnd.app+json")
    status, _, _ = call("lookup", request_)
    assert status == 200


# --- languages ----------------------------------------------------------------------------


def _bad_lookup(accept_language: str | None) -> dict[str, Any]:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    return event(
        "GET",
        f"/products/{EAN_BAD_CHECK}",
        resource="/products/{code}",
        path_parameters={"code": EAN_BAD_CHECK},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        (None, "en"),
        ("zh-CN", "zh-Hans"),
        ("zh-Hans-CN,zh;q=0.9", "zh-Hans"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("en;q=0.5, zh;q=0.9", "zh-Hans"),
        ("fr-FR, zh-CN;q=0.3", "zh-Hans"),
        ("zh-TW, en;q=0.2", "en"),
        ("zh-CN;q=0, en;q=0.1", "en"),
        ("de", "en"),
    ],
)
def test_problems_speak_the_language_asked(accept_language: str | None, language: str) -> None:
    _, headers, body = problem("lookup", _bad_lookup(accept_language))
    assert headers["Content-Language"] == language
    assert "Accept-Language" in headers["Vary"]
    assert body["code"] == "invalid_gtin"  # never translated
    if language == "zh-Hans":
        assert body["title"] == "无效的 GTIN 条码"
        assert body["detail"] == (
            "6901234567891 的校验位错误：应为 2，实际为 1（是否想输入 6901234567892？）"
        )
        assert body["invalid_params"][0]["name"] == "code"
    else:
        assert body["title"] == "Invalid GTIN"
        assert "check digit" in body["detail"]


def test_405_and_unknown_parameters_in_chinese() -> None:
    headers = {"Accept-Language": "zh-CN"}
    _, _, body = problem("generate", event("DELETE", "/barcodes", headers=headers))
    assert body["title"] == "不允许的请求方法"
    assert body["detail"].startswith("此路径不允许 DELETE 方法")
    query = {"type": "qrcode", "content": "x", "width": "99", "height": "99", "color": "red"}
    _, _, body = problem("generate", event("GET", "/barcodes", query=query, headers=headers))
    assert body["detail"] == "未知的参数（query string）：'color'"
    assert body["invalid_params"] == [{"name": "color", "reason": "未知参数"}]


# --- raw UTF-8 ------------------------------------------------------------------------------


def test_product_json_is_raw_utf8(table: str, secret: dict) -> None:
    with responses.RequestsMock() as upstream:
        upstream.post(BAICHUAN_URL, json=baichuan_found("6901234567892", "茉莉花茶"))
        status, _, body = call("lookup", load_event("lookup_get.json"))
    assert status == 200
    assert "茉莉花茶" in body
    assert "\\u" not in body


def test_batch_json_is_raw_utf8(secret: dict) -> None:
    create_cache_table()
    with responses.RequestsMock() as upstream:
        upstream.post(BAICHUAN_URL, json=baichuan_found("6901234567892", "测试"))
        request_ = json_post("/products/lookup", {"codes": ["6901234567892"]})
        status, _, body = call("lookup", request_)
    assert status == 200
    assert "测试" in body
    assert "\\u" not in body


# --- problems inside answers speak the request's language too ------------------------


def test_batch_rows_speak_the_language_asked(table: str) -> None:
    request_ = json_post("/products/lookup", {"codes": [EAN_BAD_CHECK]})
    request_["headers"]["Accept-Language"] = "zh-CN,zh;q=0.9"
    status, _, body = call("lookup", request_)
    assert status == 200
    row = json.loads(body)["results"][0]
    assert row["status"] == "invalid_gtin"
    assert row["error"]["title"] == "无效的 GTIN 条码"
    assert row["error"]["code"] == "invalid_gtin"
    # The next request, without the header, is English again.
    status, _, body = call("lookup", json_post("/products/lookup", {"codes": [EAN_BAD_CHECK]}))
    assert json.loads(body)["results"][0]["error"]["title"] == "Invalid GTIN"


def test_generate_batch_rows_and_scan_entries_speak_it(aws: None, table: str) -> None:
    batch = json_post(
        "/barcodes/batch",
        {"requests": [{"type": "ean13", "content": EAN_BAD_CHECK, "width": 300, "height": 150}]},
    )
    batch["headers"]["Accept-Language"] = "zh"
    _, _, body = call("generate", batch)
    assert json.loads(body)["results"][0]["problem"]["title"] == "无效的 GTIN 条码"
    scan = json_post("/scans", {"text": EAN_BAD_CHECK})
    scan["headers"]["Accept-Language"] = "zh-Hans"
    _, _, body = call("lookup", scan)
    assert json.loads(body)["scans"][0]["error"]["title"] == "无效的 GTIN 条码"
