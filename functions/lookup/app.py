"""Lookup function: product lookups, community contributions, scans (text or photo), health
and the OpenAPI document."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from barcode_service import explorer, snapshot
from barcode_service.api import (
    cacheable,
    json_body,
    json_response,
    make_resolver,
    query_params,
    with_headers,
)
from barcode_service.batch import lookup_many
from barcode_service.budgets import ClientBudget
from barcode_service.callers import caller_of
from barcode_service.errors import InvalidGtin, InvalidParameter, ServiceError
from barcode_service.lookup import LookupService
from barcode_service.observability import logger, metrics, tracer
from barcode_service.openapi import openapi_document
from barcode_service.public_url import request_base_url
from barcode_service.settings import get_settings
from barcode_service.warmup import prepare_lookup
from barcode_service.wiring import build_community_service, build_lookup_service

if TYPE_CHECKING:
    from barcode_service.community.service import CommunityService

app = make_resolver()
DOCS_CACHE_CONTROL = "public, max-age=300"
ASSET_CACHE_CONTROL = "public, max-age=86400"  # pinned with the layer


@lru_cache(maxsize=1)
def service() -> LookupService:
    """Built on first use and reused while the execution environment lives."""
    return build_lookup_service(get_settings())


@lru_cache(maxsize=1)
def community() -> CommunityService:
    """The community catalog's contributions, on this function's lookup service."""
    return build_community_service(get_settings(), service())


@snapshot.before_snapshot
def _before_snapshot() -> None:
    """SnapStart: what the first request would build, built before the snapshot."""
    service()
    community()
    prepare_lookup(get_settings())


def caller_key() -> str | None:
    """Who sent this request (API key or signed-in user), as its hash; None: nobody known."""
    caller = caller_of(app.current_event.raw_event)
    return caller.key if caller.known else None


def budget() -> ClientBudget | None:
    """The daily lookup budget of whoever sent this request (API key or signed-in user)."""
    return service().budget_for(caller_key())


def metered(answer: Callable[[ClientBudget | None], Any]) -> Response[str]:
    """`answer(budget)` with the caller's remaining budget in RateLimit headers."""
    spender = budget()
    return with_headers(lambda: answer(spender), spender.headers if spender is not None else dict)


@app.get("/health")
def health() -> dict[str, Any]:
    """Liveness only: touches no dependency."""
    query_params(app)
    return {"status": "ok"}


@app.get("/openapi.json")
def openapi() -> Response[str]:
    """The API description, public, with `servers` naming the base URL that served it."""
    query_params(app)
    document = openapi_document()
    document["servers"] = [{"url": _base_url("/openapi.json"), "description": "this API"}]
    return cacheable(app, json_response(document), DOCS_CACHE_CONTROL)


@app.get("/docs")
def docs() -> Response[str]:
    """The interactive explorer (Swagger UI from the layer, no third-party CDN)."""
    query_params(app)
    page = Response(status_code=200, content_type="text/html; charset=utf-8", body=explorer.page())
    return cacheable(app, page, DOCS_CACHE_CONTROL)


@app.get("/docs/<name>")
def docs_asset(name: str) -> Response[str]:
    query_params(app)
    text, content_type = explorer.asset(name)
    return cacheable(
        app, Response(status_code=200, content_type=content_type, body=text), ASSET_CACHE_CONTROL
    )


def _base_url(route_path: str) -> str:
    """Where this API is served: PUBLIC_BASE_URL, else the request's own scheme and host."""
    configured = get_settings().public_base_url
    if configured:
        return configured.rstrip("/")
    return request_base_url(app.current_event.raw_event, route_path)


@app.get("/products/<code>")
@tracer.capture_method
def get_product(code: str) -> Response[str]:
    # The route matches the raw path: "690%201234..." arrives still URL-encoded.
    format_name = query_params(app, ("format",)).get("format")
    fresh_for: list[int] = []

    def answer(spender: ClientBudget | None) -> dict[str, Any]:
        try:
            product = service().lookup(
                unquote(code), format_name, budget=spender, caller=caller_key()
            )
        except InvalidGtin as error:
            raise error.about("code") from None
        except InvalidParameter as error:
            raise error.about("format") from None
        fresh_for.append(product.max_age(time.time()))
        return product.to_dict()

    response = metered(answer)
    # Per API key (private): fresh for what is left of the cache's freshness.
    return cacheable(app, response, f"private, max-age={fresh_for[0]}")


@app.post("/products/<code>")
@tracer.capture_method
def contribute(code: str) -> Response[str]:
    """A community contribution: a product no provider knows, described by the caller."""
    from barcode_service.community.request import FIELDS  # noqa: PLC0415 - this route only

    format_name = query_params(app, ("format",)).get("format")
    body = json_body(app, FIELDS)
    caller = caller_of(app.current_event.raw_event)
    spender = budget()
    headers = spender.headers if spender is not None else dict
    try:
        done = community().contribute(unquote(code), format_name, caller, body, budget=spender)
    except ServiceError as error:
        raise error.copy(headers=dict(headers())) from None
    return json_response(done.body, headers(), status=done.status)


@app.post("/products/lookup")
@tracer.capture_method
def lookup_batch() -> Response[str]:
    query_params(app)
    body = json_body(app, ("codes",))
    return metered(
        lambda spender: {
            "results": [
                row.to_dict()
                for row in lookup_many(
                    service(), body.get("codes"), budget=spender, caller=caller_key()
                )
            ]
        }
    )


@app.post("/scans")
@tracer.capture_method
def scan() -> Response[str]:
    """Raw scanner output (JSON) or a photo: every code in it, each looked up."""
    from barcode_service.scans import ScanService, parse_scan_request  # noqa: PLC0415

    event = app.current_event
    query_params(app)
    request = parse_scan_request(
        event.headers.get("content-type"), event.body, bool(event.is_base64_encoded)
    )
    return metered(
        lambda spender: (
            ScanService(service(), budget=spender, caller=caller_key()).scan(request).to_dict()
        )
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
