"""The lookup handler when DynamoDB throttles or Secrets Manager cannot be read.

botocore retries throttling itself before it raises; these tests start where it
gives up: the client method raises the final ClientError.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.conftest import SECRET
from tests.support.fault_server import FaultServer, respond
from tests.support.faults import CODE, assert_defined, call_lookup
from tests.support.upstreams import baichuan_found

FOUND = baichuan_found(CODE, "Jasmine Tea")
THROTTLES = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "InternalServerError",
]


def client_error(code: str, operation: str) -> ClientError:
    status = 500 if code == "InternalServerError" else 400
    return ClientError(
        {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


def fail_dynamodb(
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    code: str,
    when: Callable[[dict[str, Any]], bool] = lambda kwargs: True,
) -> list[dict[str, Any]]:
    """Make the lookup service's DynamoDB client raise `code` on `operation` calls that
    `when` selects; returns the list of failed calls' arguments."""
    from functions.lookup import app

    client = app.service().store.client
    real = getattr(client, operation)
    failed: list[dict[str, Any]] = []

    def fake(**kwargs: Any) -> Any:
        if when(kwargs):
            failed.append(kwargs)
            raise client_error(code, operation)
        return real(**kwargs)

    monkeypatch.setattr(client, operation, fake)
    return failed


def is_lease(kwargs: dict[str, Any]) -> bool:
    return str(kwargs.get("Item", {}).get("pk", {}).get("S", "")).startswith("LEASE#")


def is_product(kwargs: dict[str, Any]) -> bool:
    return str(kwargs.get("Item", {}).get("pk", {}).get("S", "")).startswith("PRODUCT#")


@pytest.mark.parametrize("code", THROTTLES)
def test_throttled_read_is_503_without_upstream_call(
    table: str,
    secret: dict,
    upstream: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
) -> None:
    upstream.always(respond(200, FOUND))
    fail_dynamodb(monkeypatch, "batch_get_item", code)
    result = call_lookup()
    assert_defined(result, 503, "upstream_unavailable")
    assert upstream.count == 0


@pytest.mark.parametrize("code", THROTTLES[:2])
def test_throttled_lease_write_without_stale_entry_is_503(
    table: str,
    secret: dict,
    upstream: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
) -> None:
    upstream.always(respond(200, FOUND))
    fail_dynamodb(monkeypatch, "put_item", code, is_lease)
    result = call_lookup()
    assert_defined(result, 503, "upstream_unavailable")
    assert upstream.count == 0


def test_throttled_lease_write_serves_the_stale_entry(
    secret: dict,
    stale_entry: dict[str, Any],
    upstream: FaultServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream.always(respond(503, "down"))
    fail_dynamodb(monkeypatch, "put_item", "ProvisionedThroughputExceededException", is_lease)
    result = call_lookup()
    assert_defined(result, 200)
    assert result.body["stale"] is True


def test_throttled_result_write_is_a_defined_answer(
    table: str, secret: dict, upstream: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.always(respond(200, FOUND))
    failed = fail_dynamodb(monkeypatch, "put_item", "ThrottlingException", is_product)
    result = call_lookup()
    assert failed
    assert upstream.count == 1
    # The billed answer is still returned; only the caching of it failed.
    assert_defined(result, 200)
    assert result.body["source"] == "upstream"


def test_throttled_lease_release_still_answers(
    table: str, secret: dict, upstream: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.always(respond(200, FOUND))
    fail_dynamodb(monkeypatch, "delete_item", "ThrottlingException")
    result = call_lookup()
    assert_defined(result, 200)
    assert result.body["source"] == "upstream"


def test_missing_secret_is_503(table: str, upstream: FaultServer) -> None:
    upstream.always(respond(200, FOUND))
    result = call_lookup()  # no secret was created: ResourceNotFoundException
    assert_defined(result, 503, "upstream_unavailable")
    assert upstream.count == 0
    assert SECRET in result.body["detail"]


def test_secret_that_is_not_json_is_a_defined_answer(table: str, upstream: FaultServer) -> None:
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString="api_key=abc123")
    result = call_lookup()
    # Unusable credentials count as "no upstream configured": a 404 from cache/catalog
    # (lookup.py), or a 503 naming the problem. Never the secret's text.
    assert_defined(result)
    assert (result.status, result.body["code"]) in (
        (404, "not_found"),
        (503, "upstream_auth_failed"),
    )
    assert "abc123" not in json.dumps(result.body)
    assert upstream.count == 0


@pytest.mark.parametrize(
    "error",
    [
        GetParameterError("injected: Secrets Manager is down"),
        GetParameterError(str(EndpointConnectionError(endpoint_url="https://secretsmanager"))),
    ],
    ids=["outage", "unreachable"],
)
def test_secrets_manager_outage_is_503(
    table: str, upstream: FaultServer, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.get_secret", unavailable)
    result = call_lookup()
    assert_defined(result, 503, "upstream_unavailable")
    assert "injected" not in result.body["detail"]


def test_secrets_manager_outage_serves_the_stale_entry(
    stale_entry: dict[str, Any], upstream: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise GetParameterError("injected")

    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.get_secret", unavailable)
    result = call_lookup()
    assert_defined(result, 200)
    assert result.body["stale"] is True


def test_secrets_manager_endpoint_refusing_connections_is_503(
    table: str, upstream: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real botocore call to a closed loopback port (moto does not intercept it)."""
    from aws_lambda_powertools.utilities import parameters

    closed = FaultServer()
    url = closed.base_url
    closed.server_close()  # bound once to learn a free port, now nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    parameters.clear_caches()
    monkeypatch.setattr(parameters.base, "DEFAULT_PROVIDERS", {})
    result = call_lookup()
    assert_defined(result, 503, "upstream_unavailable")
