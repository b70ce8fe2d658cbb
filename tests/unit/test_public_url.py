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


def test_local_gateway_keeps_scheme_host_and_port() -> None:
    headers = {"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "3000"}
    assert request_base_url(event(headers, "/v1/uploads"), "/uploads") == "http://127.0.0.1:3000/v1"


def test_phone_on_the_lan_gets_the_lan_address() -> None:
    headers = {"host": "192.168.1.20:8080", "x-forwarded-proto": "http"}
    base = request_base_url(event(headers, "/v1/uploads"), "/uploads")
    assert base == "http://192.168.1.20:8080/v1"


def test_custom_domain_base_path_replaces_the_stage() -> None:
    headers = {"Host": "api.example.com", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}
    base = request_base_url(event(headers, "/barcodes/uploads"), "/uploads")
    assert base == "https://api.example.com/barcodes"
    root = request_base_url(event(headers, "/uploads"), "/uploads")
    assert root == "https://api.example.com"


def test_no_port_in_host_is_the_default_port_whatever_x_forwarded_port_says() -> None:
    headers = {"Host": "dev.example.test", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "80"}
    assert (
        request_base_url(event(headers, "/v1/uploads"), "/uploads") == "https://dev.example.test/v1"
    )


@pytest.mark.parametrize(
    "host", ["evil.example/path", "a b", "x@evil.example", "", "[::1", "host:port"]
)
def test_a_host_that_is_not_a_host_falls_back_to_the_domain_name(host: str) -> None:
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    base = request_base_url(event(headers, "/v1/uploads", domain="abc.example"), "/uploads")
    assert base == "https://abc.example/v1"


def test_unknown_scheme_and_missing_path_fall_back_to_https_and_the_stage() -> None:
    headers = {"Host": "abc.example", "X-Forwarded-Proto": "gopher"}
    assert request_base_url(event(headers, ""), "/uploads") == "https://abc.example/v1"


def test_ipv6_host_keeps_its_port() -> None:
    headers = {"Host": "[::1]:3000", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "3000"}
    assert request_base_url(event(headers, "/v1/uploads"), "/uploads") == "http://[::1]:3000/v1"
