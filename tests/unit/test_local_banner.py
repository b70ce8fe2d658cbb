"""The local stack's banner lists each route of a function once."""

from __future__ import annotations

from local.gateway import Route
from local.stack import banner_routes


def route(method: str, resource: str) -> Route:
    return Route("Api", "v1", resource, method, "LookupFunction", api_key_required=True)


def test_a_resources_any_catch_all_is_not_listed_beside_its_methods() -> None:
    routes = [
        route("GET", "/products/{code}"),
        route("ANY", "/products/{code}"),
        route("POST", "/products/lookup"),
        route("ANY", "/products/lookup"),
    ]
    assert banner_routes(routes) == ["GET /products/{code}", "POST /products/lookup"]


def test_two_methods_on_one_resource_are_two_routes() -> None:
    routes = [route("get", "/barcodes"), route("post", "/barcodes"), route("any", "/barcodes")]
    assert banner_routes(routes) == ["GET /barcodes", "POST /barcodes"]


def test_an_any_route_alone_on_its_resource_is_listed() -> None:
    assert banner_routes([route("ANY", "/proxy")]) == ["ANY /proxy"]
