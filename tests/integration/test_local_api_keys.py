"""Locally, every API key reaches the functions with its own apiKeyId, as in AWS.

Budgets and upload ownership follow `requestContext.identity.apiKeyId`, so the local
gateway must name the key it checked, and two keys must be two callers.
"""

from __future__ import annotations

from pathlib import Path

from local.stack import API_KEY_ID, extra_api_keys


def test_extra_keys_each_get_their_own_id() -> None:
    keys = extra_api_keys({"LOCAL_EXTRA_API_KEYS": " partner-key , tester-key,partner-key,, "})
    assert keys == {"partner-key": f"{API_KEY_ID}-2", "tester-key": f"{API_KEY_ID}-3"}
    assert len(set(keys.values())) == len(keys)
    assert API_KEY_ID not in keys.values()


def test_no_extra_keys_by_default() -> None:
    assert extra_api_keys({}) == {}


def test_the_gateway_names_each_key_it_checked(tmp_path: Path) -> None:
    from tests.support import local_gateway_stack as gateway_tests

    gateway, _ = gateway_tests.gateway_stack.__wrapped__(tmp_path)  # type: ignore[attr-defined]
    gateway.api_keys.update(extra_api_keys({"LOCAL_EXTRA_API_KEYS": "second-key"}))
    seen = {}
    for key in (gateway_tests.KEY, "second-key"):
        status, _, body = gateway_tests.call(gateway, "GET", "/v1/products/1", key=key)
        assert status == 200
        seen[key] = gateway_tests.echoed(body)["event"]["requestContext"]["identity"]["apiKeyId"]
    assert seen == {gateway_tests.KEY: "key-id-1", "second-key": f"{API_KEY_ID}-2"}
    assert gateway_tests.call(gateway, "GET", "/v1/products/1", key="unknown")[0] == 403
