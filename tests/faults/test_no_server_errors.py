"""No input gives a 5xx: property tests over every route's parameters, through the handlers.

Whatever the text (lone surrogates included), bytes or sizes, every answer is a success
or a 4xx problem+json that API Gateway can send (issue 22: a lone surrogate echoed in
an answer was a 502, zint's TypeError on one was a 500, and a multipart part holding
`\\xff\\xfe` was a 500). The repo's derandomized Hypothesis profile draws the same
examples every run; the explicit cases are the issue's own reproductions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import boto3
import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barcode_service.barcode_request import PARAMETERS
from local.context import LambdaContext
from tests.support.faults import IMAGES_BUCKET
from tests.support.hostile import (
    SURROGATES,
    assert_never_5xx,
    json_text,
    json_values,
    members,
    multipart,
    params,
    raw_bytes,
    rest_event,
    text,
)
from tests.support.upstreams import BAICHUAN_URL, baichuan_not_found

UPLOADS_BUCKET = "test-uploads"
QUICK = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GENERATE_NAMES = (*PARAMETERS, "response")


@pytest.fixture
def stack(
    table: str, secret: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[responses.RequestsMock]:
    """moto (table, secret, buckets), local renders, and a provider that knows nothing."""
    boto3.client("s3").create_bucket(Bucket=IMAGES_BUCKET)
    boto3.client("s3").create_bucket(Bucket=UPLOADS_BUCKET)
    for name, value in {
        "GENERATE_BACKEND": "local",
        "IMAGES_BUCKET": IMAGES_BUCKET,
        "IMAGES_BASE_URL": "https://images.example.test",
        "UPLOADS_BUCKET": UPLOADS_BUCKET,
        "UPLOADS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/uploads",
    }.items():
        monkeypatch.setenv(name, value)
    from functions.uploads import app as uploads_app

    uploads_app.service.cache_clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, BAICHUAN_URL, json=baichuan_not_found())
        yield mock
    uploads_app.service.cache_clear()


def call(module: str, event: dict[str, Any]) -> dict[str, Any]:
    from functions.generate import app as generate_app
    from functions.lookup import app as lookup_app
    from functions.uploads import app as uploads_app

    handler = {"lookup": lookup_app, "generate": generate_app, "uploads": uploads_app}[module]
    response: dict[str, Any] = handler.lambda_handler(event, LambdaContext())
    return response


def answer(module: str, event: dict[str, Any]) -> tuple[int, Any]:
    response = call(module, event)
    assert_never_5xx(response)
    body = response.get("body") or ""
    return int(response["statusCode"]), json.loads(body) if body.startswith("{") else body


# -- the reproductions ---------------------------------------------------------------


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_a_lone_surrogate_in_a_lookup_batch_is_a_400_naming_it(
    stack: responses.RequestsMock, surrogate: str
) -> None:
    event = rest_event(
        "POST",
        "/products/lookup",
        "/products/lookup",
        content_type="application/json",
        body=json_text({"codes": ["6901234567892", surrogate]}),
    )
    status, problem = answer("lookup", event)
    assert (status, problem["code"]) == (400, "invalid_parameter")
    assert [p["name"] for p in problem["invalid_params"]] == ["codes[1]"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": "\ud800"}, "text"),
        ({"text": "6901234567892", "format": "\ud800"}, "format"),
        ({"text": "6901234567892", "\ud800": 1}, "\ufffd"),
    ],
    ids=["text", "format", "member-name"],
)
def test_a_lone_surrogate_in_a_scan_is_a_400_naming_it(
    stack: responses.RequestsMock, payload: dict[str, Any], field: str
) -> None:
    event = rest_event(
        "POST", "/scans", "/scans", content_type="application/json", body=json_text(payload)
    )
    status, problem = answer("lookup", event)
    assert (status, problem["code"]) == (400, "invalid_parameter")
    assert field in [p["name"] for p in problem["invalid_params"]]


def test_a_lone_surrogate_as_generate_content_is_a_400(stack: responses.RequestsMock) -> None:
    body = {"type": "qrcode", "content": "a\ud800", "width": 300, "height": 300}
    event = rest_event(
        "POST", "/barcodes", "/barcodes", content_type="application/json", body=json_text(body)
    )
    status, problem = answer("generate", event)
    assert (status, problem["code"]) == (400, "invalid_parameter")
    assert [p["name"] for p in problem["invalid_params"]] == ["content"]


def test_a_bad_row_of_a_batch_fails_alone(stack: responses.RequestsMock) -> None:
    good = {"type": "qrcode", "content": "hello", "width": 200, "height": 200}
    bad = {**good, "content": "a\ud800"}
    event = rest_event(
        "POST",
        "/barcodes/batch",
        "/barcodes/batch",
        content_type="application/json",
        body=json_text({"requests": [good, bad, {"\udcff": 1}]}),
    )
    status, body = answer("generate", event)
    assert status == 200
    rows = body["results"]
    assert [row["status"] for row in rows] == [200, 400, 400]
    assert [p["name"] for p in rows[1]["problem"]["invalid_params"]] == ["content"]


def test_a_multipart_part_that_is_not_utf8_is_a_400_naming_it(
    stack: responses.RequestsMock,
) -> None:
    body = multipart(
        [("type", b"qrcode", None), ("content", b"\xff\xfe", None), ("width", b"200", None)]
    )
    event = rest_event(
        "POST",
        "/barcodes",
        "/barcodes",
        content_type="multipart/form-data; boundary=b0undary",
        body=body,
    )
    status, problem = answer("generate", event)
    assert (status, problem["code"]) == (400, "invalid_parameter")
    assert [p["name"] for p in problem["invalid_params"]] == ["content"]


# -- properties, route by route ----------------------------------------------------------------


@QUICK
@given(code=text, query=params(("format",)))
def test_get_product(stack: responses.RequestsMock, code: str, query: dict[str, str]) -> None:
    event = rest_event(
        "GET", "/products/{code}", f"/products/{code}", query=query, path_parameters={"code": code}
    )
    answer("lookup", event)


@QUICK
@given(
    body=st.one_of(
        members(("codes",)).map(json_text),
        st.lists(json_values, max_size=8).map(lambda codes: json_text({"codes": codes})),
        text,
        raw_bytes,
    )
)
def test_lookup_batch(stack: responses.RequestsMock, body: str | bytes) -> None:
    event = rest_event(
        "POST", "/products/lookup", "/products/lookup", content_type="application/json", body=body
    )
    answer("lookup", event)


@QUICK
@given(
    content_type=st.sampled_from(
        ["application/json", "image/png", "multipart/form-data; boundary=b0undary", "text/plain"]
    ),
    json_body=members(("text", "format")).map(json_text),
    parts=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(["image", "text"]), text),
            raw_bytes,
            st.one_of(st.none(), text),
        ),
        max_size=3,
    ),
    raw=raw_bytes,
)
def test_scans(
    stack: responses.RequestsMock,
    content_type: str,
    json_body: str,
    parts: list[tuple[str, bytes, str | None]],
    raw: bytes,
) -> None:
    body: str | bytes = raw
    if content_type == "application/json":
        body = json_body
    elif content_type.startswith("multipart/"):
        body = multipart(parts)
    event = rest_event("POST", "/scans", "/scans", content_type=content_type, body=body)
    answer("lookup", event)


@QUICK
@given(query=params(GENERATE_NAMES))
def test_get_barcodes(stack: responses.RequestsMock, query: dict[str, str]) -> None:
    answer("generate", rest_event("GET", "/barcodes", "/barcodes", query=query))


@QUICK
@given(
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=b0undary",
        ]
    ),
    fields=members(GENERATE_NAMES),
    parts=st.lists(
        st.tuples(st.one_of(st.sampled_from(GENERATE_NAMES), text), raw_bytes, st.none()),
        max_size=4,
    ),
)
def test_post_barcodes(
    stack: responses.RequestsMock,
    content_type: str,
    fields: dict[str, Any],
    parts: list[tuple[str, bytes, str | None]],
) -> None:
    body: str | bytes
    if content_type == "application/json":
        body = json_text(fields)
    elif content_type.startswith("multipart/"):
        body = multipart(parts)
    else:
        body = "&".join(f"{k}={v}" for k, v in fields.items())
    event = rest_event("POST", "/barcodes", "/barcodes", content_type=content_type, body=body)
    answer("generate", event)


@QUICK
@given(
    requests=st.one_of(
        st.lists(members(GENERATE_NAMES), max_size=4),
        json_values,
    ),
    extra=members(("requests",)),
)
def test_barcodes_batch(
    stack: responses.RequestsMock, requests: Any, extra: dict[str, Any]
) -> None:
    body = json_text({**extra, "requests": requests})
    event = rest_event(
        "POST", "/barcodes/batch", "/barcodes/batch", content_type="application/json", body=body
    )
    answer("generate", event)


@QUICK
@given(
    route=st.sampled_from(
        [
            ("generate", "/barcodes/types"),
            ("lookup", "/health"),
            ("lookup", "/openapi.json"),
            ("lookup", "/docs"),
        ]
    ),
    query=params(()),
)
def test_reads_without_parameters(
    stack: responses.RequestsMock, route: tuple[str, str], query: dict[str, str]
) -> None:
    module, path = route
    answer(module, rest_event("GET", path, path, query=query))


@QUICK
@given(name=text)
def test_docs_assets(stack: responses.RequestsMock, name: str) -> None:
    event = rest_event("GET", "/docs/{name}", f"/docs/{name}", path_parameters={"name": name})
    answer("lookup", event)


@QUICK
@given(body=st.one_of(members(("filename", "content_type")).map(json_text), text, raw_bytes))
def test_create_upload(stack: responses.RequestsMock, body: str | bytes) -> None:
    event = rest_event("POST", "/uploads", "/uploads", content_type="application/json", body=body)
    answer("uploads", event)


@QUICK
@given(upload_id=text, query=params(()))
def test_upload_status(
    stack: responses.RequestsMock, upload_id: str, query: dict[str, str]
) -> None:
    event = rest_event(
        "GET",
        "/uploads/{id}",
        f"/uploads/{upload_id}",
        query=query,
        path_parameters={"id": upload_id},
    )
    answer("uploads", event)


# -- the same through the local gateway (what `make run` serves) ------------------------------

KEY = "hostile-test-key"
ROUTES = (
    ("GET", "/v1/products/{}"),
    ("POST", "/v1/products/lookup"),
    ("POST", "/v1/scans"),
    ("GET", "/v1/barcodes"),
    ("POST", "/v1/barcodes"),
    ("POST", "/v1/barcodes/batch"),
    ("GET", "/v1/barcodes/types"),
    ("POST", "/v1/uploads"),
    ("GET", "/v1/uploads/{}"),
    ("GET", "/v1/health"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs/{}"),
    ("GET", "/img/{}"),
    ("GET", "/v1/{}"),
    ("GET", "/{}"),
)
METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD")
CONTENT_TYPES = (
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b0undary",
    "image/png",
    "text/plain; charset=utf-8",
)


class HandlerFunction:
    """A LocalFunction that calls a handler module already imported by the tests."""

    load_error = None

    def __init__(self, module: Any) -> None:
        self.module = module

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.module.lambda_handler(event, LambdaContext())


@pytest.fixture(scope="module")
def gateway() -> Any:
    from functions.generate import app as generate_app
    from functions.lookup import app as lookup_app
    from functions.uploads import app as uploads_app
    from local.function_urls import url_routes
    from local.gateway import Gateway, api_configs, api_routes
    from local.lambdas import function_specs
    from local.resources import register_placeholders
    from local.stack import LOCAL_PARAMETER_DEFAULTS, locally_off_conditions
    from local.template import Resolver, Template
    from tests.support.image_app import load_image_app

    template = Template.load(Path(__file__).resolve().parents[2] / "template.yaml")
    resolver = Resolver(
        template,
        parameter_overrides=LOCAL_PARAMETER_DEFAULTS,
        forced_conditions=locally_off_conditions(template),
    )
    register_placeholders(resolver)
    specs = function_specs(resolver)
    apis = api_configs(resolver)
    modules = {
        "LookupFunction": lookup_app,
        "GenerateFunction": generate_app,
        "UploadsFunction": uploads_app,
        "ImageFunction": load_image_app("hostile_image_app"),
    }
    functions = {lid: HandlerFunction(modules[lid]) for lid in specs if lid in modules}
    return Gateway(
        api_routes(resolver, specs, apis),
        apis,
        functions,  # type: ignore[arg-type]  # HandlerFunction has invoke() like LocalFunction
        {KEY: "hostile-key-id"},
        url_routes=url_routes(template, specs),
    )


latin1 = st.text(st.characters(max_codepoint=255), max_size=30)
segments = st.one_of(
    text.map(lambda t: quote_from_bytes(t.encode("utf-8", "surrogatepass"), safe="")),
    raw_bytes.map(lambda b: quote_from_bytes(b, safe="")),
    latin1,
)
queries = st.lists(st.tuples(segments, segments), max_size=4).map(
    lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
)


def http_request(
    route: tuple[str, str], segment: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> Any:
    from local.gateway import HttpRequest

    method, path = route
    target = path.format(segment) + (f"?{query}" if query else "")
    fixed = [("Host", "127.0.0.1:3000"), ("x-api-key", KEY)]
    return HttpRequest(method=method, target=target, headers=fixed + headers, body=body)


http_requests = st.builds(
    http_request,
    route=st.one_of(
        st.sampled_from(ROUTES),
        st.tuples(st.sampled_from(METHODS), st.sampled_from([path for _, path in ROUTES])),
    ),
    segment=segments,
    query=queries,
    headers=st.tuples(
        st.one_of(st.sampled_from(CONTENT_TYPES), latin1).map(lambda t: ("Content-Type", t)),
        st.one_of(st.sampled_from(["image/png", "image/svg+xml", "*/*"]), latin1).map(
            lambda t: ("Accept", t)
        ),
    ).map(list),
    body=st.one_of(
        raw_bytes,
        members(("codes", "text", "type", "content")).map(lambda v: json_text(v).encode()),
    ),
)


@settings(QUICK, max_examples=150)
@given(request=http_requests)
def test_every_route_through_the_local_gateway(
    stack: responses.RequestsMock, gateway: Any, request: Any
) -> None:
    response = gateway.handle(request)
    assert response.status < 500, (request.target, response.status, response.body[:300])
    if response.status >= 400 and request.method != "HEAD":
        assert response.header("Content-Type") == "application/problem+json", response.headers
        assert json.loads(response.body)["status"] == response.status
