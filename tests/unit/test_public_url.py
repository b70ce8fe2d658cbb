"""request_base_url: the base URL a request actually came to, from the proxy event."""

from __future__ import annotations

from typing import Any

import pytest

from barcode_service.public_url import request_base_url
from tests.conftest import load_event


def event(
    headers: dict[str, str], path: str, stage: str = "v1", domain: str = ""
) -> dict[str, Any]:
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": {"path": path, "stage": stage, "domainName": domain},
    }


def test_aws_stage_url_from_the_events_dir() -> None:
    base = request_base_url(load_event("uploads_create.json"), "/uploads")
    assert base == "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1"


# The host comes from API Gateway's own domain (`requestContext.domainName`; locally the
# gateway's configured `host:port`), never from the client's Host header (issue 22).


def test_local_gateway_keeps_scheme_host_and_port() -> None:
    headers = {"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "3000"}
    local = event(headers, "/v1/uploads", domain="127.0.0.1:3000")
    assert request_base_url(local, "/uploads") == "http://127.0.0.1:3000/v1"


def test_a_gateway_serving_the_lan_gives_its_lan_address() -> None:
    headers = {"host": "192.168.1.20:8080", "x-forwarded-proto": "http"}
    base = request_base_url(event(headers, "/v1/uploads", domain="192.168.1.20:8080"), "/uploads")
    assert base == "http://192.168.1.20:8080/v1"


def test_custom_domain_base_path_replaces_the_stage() -> None:
    headers = {"Host": "api.example.com", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}
    domain = "api.example.com"
    base = request_base_url(event(headers, "/barcodes/uploads", domain=domain), "/uploads")
    assert base == "https://api.example.com/barcodes"
    root = request_base_url(event(headers, "/uploads", domain=domain), "/uploads")
    assert root == "https://api.example.com"


def test_no_port_in_the_domain_is_the_default_port_whatever_x_forwarded_port_says() -> None:
    headers = {"Host": "dev.example.test", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "80"}
    base = request_base_url(event(headers, "/v1/uploads", domain="dev.example.test"), "/uploads")
    assert base == "https://dev.example.test/v1"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", "127.0.0.1:9999"])
def test_the_host_header_is_never_copied_into_a_link(host: str) -> None:
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    base = request_base_url(event(headers, "/v1/uploads", domain="api.example.com"), "/uploads")
    assert base == "https://api.example.com/v1"


@pytest.mark.parametrize(
    "host", ["evil.example/path", "a b", "x@evil.example", "", "[::1", "host:port"]
)
def test_a_host_that_is_not_a_host_falls_back_to_the_domain_name(host: str) -> None:
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    base = request_base_url(event(headers, "/v1/uploads", domain="abc.example"), "/uploads")
    assert base == "https://abc.example/v1"


def test_unknown_scheme_and_missing_path_fall_back_to_https_and_the_stage() -> None:
    headers = {"Host": "abc.example", "X-Forwarded-Proto": "gopher"}
    answer = request_base_url(event(headers, "", domain="abc.example"), "/uploads")
    assert answer == "https://abc.example/v1"


def test_ipv6_host_keeps_its_port() -> None:
    headers = {"Host": "[::1]:3000", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "3000"}
    local = event(headers, "/v1/uploads", domain="[::1]:3000")
    assert request_base_url(local, "/uploads") == "http://[::1]:3000/v1"
