"""SecretStore against moto Secrets Manager: parsing, caching, refresh, failures."""

from __future__ import annotations

import json
import threading
import time
from functools import cache
from typing import Any

import boto3
import pytest
import responses
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider
from pydantic import SecretStr

from barcode_service.credentials import GenerateCredentials, LookupCredentials, SecretStore
from barcode_service.errors import CredentialsMissing, ServiceError, UpstreamUnavailable
from barcode_service.gugudata import GuGuDataClient
from barcode_service.providers.baichuan import BaichuanClient, UpstreamProduct
from barcode_service.transport import RetryPolicy
from tests.conftest import SECRET, SECRET_STRINGS, SECRET_VALUE

ROTATED = {
    "generate": {"appkey": "gg-appkey-ROTATED-9999"},
    "lookup": {"api_key": "bc-apikey-ROTATED-8888", "secret_key": "bc-secret-ROTATED-7777"},
}
OTHER_SECRET = "test/barcode-backend/other"


@cache
def secretsmanager() -> Any:
    """One client for every test: creating a boto3 client costs ~0.1 s; moto resets state."""
    return boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture(autouse=True)
def _reuse_one_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same Powertools code path, minus a new boto3 session per test (conftest clears them).
    monkeypatch.setitem(
        parameters_base.DEFAULT_PROVIDERS, "secrets", SecretsProvider(boto3_client=secretsmanager())
    )


def put(value: Any, name: str = SECRET) -> None:
    """Store a new current version of a secret (creating it when needed)."""
    client = secretsmanager()
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        client.put_secret_value(SecretId=name, SecretString=text)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=text)


def assert_secret_free(error: ServiceError) -> None:
    text = f"{error} {error!r} {json.dumps(error.to_problem(), ensure_ascii=False)}"
    for value in (*SECRET_STRINGS, *(v for part in ROTATED.values() for v in part.values())):
        assert value not in text


# --- reading -------------------------------------------------------------------------------


def test_reads_both_sections(secret: dict[str, Any]) -> None:
    store = SecretStore(SECRET)
    generate = store.generate()
    lookup = store.lookup()
    assert isinstance(generate, GenerateCredentials)
    assert isinstance(lookup, LookupCredentials)
    assert generate.appkey.get_secret_value() == secret["generate"]["appkey"]
    assert lookup.api_key.get_secret_value() == secret["lookup"]["api_key"]
    assert lookup.secret_key.get_secret_value() == secret["lookup"]["secret_key"]


def test_values_are_secret_strings_that_never_print(secret: dict[str, Any]) -> None:
    store = SecretStore(SECRET)
    shown = (
        f"{store.generate()!r} {store.lookup()!r} {store.lookup()} {store.lookup().model_dump()}"
    )
    assert isinstance(store.lookup().api_key, SecretStr)
    for value in SECRET_STRINGS:
        assert value not in shown


def test_values_are_trimmed(aws: None) -> None:
    put(
        {
            "generate": {"appkey": "  key-with-spaces \n"},
            "lookup": {"api_key": "a", "secret_key": "b"},
        }
    )
    assert SecretStore(SECRET).generate().appkey.get_secret_value() == "key-with-spaces"


def test_sections_are_independent(aws: None) -> None:
    # A deployment with only generation configured can still generate.
    put({"generate": {"appkey": "only-generation"}})
    store = SecretStore(SECRET)
    assert store.generate().appkey.get_secret_value() == "only-generation"
    with pytest.raises(CredentialsMissing, match="'lookup'"):
        store.lookup()


# --- caching and refresh ----------------------------------------------------------------


def test_cached_across_calls_until_refresh(secret: dict[str, Any]) -> None:
    store = SecretStore(SECRET, max_age=300)
    assert store.generate().appkey.get_secret_value() == "gg-appkey-SECRET-1111"
    put(ROTATED)
    # Still cached: both sections come from the one cached document.
    assert store.generate().appkey.get_secret_value() == "gg-appkey-SECRET-1111"
    assert store.lookup().api_key.get_secret_value() == "bc-apikey-SECRET-2222"
    # refresh=True goes back to Secrets Manager ...
    assert store.generate(refresh=True).appkey.get_secret_value() == "gg-appkey-ROTATED-9999"
    # ... and the fresh value replaces the cached one for everyone after.
    assert store.generate().appkey.get_secret_value() == "gg-appkey-ROTATED-9999"
    assert store.lookup().secret_key.get_secret_value() == "bc-secret-ROTATED-7777"


def test_lookup_refresh_refetches(secret: dict[str, Any]) -> None:
    store = SecretStore(SECRET)
    assert store.lookup().api_key.get_secret_value() == "bc-apikey-SECRET-2222"
    put(ROTATED)
    assert store.lookup().api_key.get_secret_value() == "bc-apikey-SECRET-2222"
    assert store.lookup(refresh=True).api_key.get_secret_value() == "bc-apikey-ROTATED-8888"


def test_max_age_zero_reads_every_time(secret: dict[str, Any]) -> None:
    store = SecretStore(SECRET, max_age=0)
    assert store.generate().appkey.get_secret_value() == "gg-appkey-SECRET-1111"
    put(ROTATED)
    assert store.generate().appkey.get_secret_value() == "gg-appkey-ROTATED-9999"


def test_stores_for_different_secrets_do_not_share_a_cache(secret: dict[str, Any]) -> None:
    put(ROTATED, name=OTHER_SECRET)
    assert SecretStore(SECRET).generate().appkey.get_secret_value() == "gg-appkey-SECRET-1111"
    assert SecretStore(OTHER_SECRET).generate().appkey.get_secret_value() == (
        "gg-appkey-ROTATED-9999"
    )


# --- failures --------------------------------------------------------------------------


def test_no_secret_id_is_credentials_missing() -> None:
    with pytest.raises(CredentialsMissing, match="SECRET_ID") as info:
        SecretStore("").generate()
    assert info.value.code == "upstream_auth_failed"
    assert info.value.status == 503


def test_missing_secret_is_upstream_unavailable(aws: None) -> None:
    with pytest.raises(UpstreamUnavailable) as info:
        SecretStore("does/not/exist").lookup()
    assert "does/not/exist" in info.value.detail
    assert info.value.__cause__ is None


def test_secrets_manager_failure_does_not_leak_the_cause(aws: None) -> None:
    with pytest.raises(UpstreamUnavailable) as info:
        SecretStore("does/not/exist").generate(refresh=True)
    assert info.value.__suppress_context__
    assert info.value.retry_after == 30


@pytest.mark.parametrize(
    "raw",
    [
        '{"generate": {"appkey": "gg-appkey-SECRET-1111"}, "lookup": {"api_key": "bc-apikey-SE',
        "appkey=gg-appkey-SECRET-1111",
        "gg-appkey-SECRET-1111",
    ],
    ids=["truncated-json", "query-string", "bare-value"],
)
def test_malformed_json_is_credentials_missing(aws: None, raw: str) -> None:
    put(raw)
    with pytest.raises(CredentialsMissing, match="not a JSON document") as info:
        SecretStore(SECRET).generate()
    assert_secret_free(info.value)


@pytest.mark.parametrize("raw", ['["gg-appkey-SECRET-1111"]', '"gg-appkey-SECRET-1111"', "42"])
def test_json_that_is_not_an_object_is_credentials_missing(aws: None, raw: str) -> None:
    put(raw)
    with pytest.raises(CredentialsMissing, match="not a JSON object") as info:
        SecretStore(SECRET).lookup()
    assert_secret_free(info.value)


@pytest.mark.parametrize(
    ("document", "method", "names"),
    [
        ({"lookup": SECRET_VALUE["lookup"]}, "generate", "'generate'"),
        ({"generate": SECRET_VALUE["generate"]}, "lookup", "'lookup'"),
        ({**SECRET_VALUE, "generate": "gg-appkey-SECRET-1111"}, "generate", "'generate'"),
        ({**SECRET_VALUE, "generate": {}}, "generate", "'generate.appkey'"),
        ({**SECRET_VALUE, "generate": {"appkey": ""}}, "generate", "'generate.appkey'"),
        ({**SECRET_VALUE, "generate": {"appkey": "   "}}, "generate", "'generate.appkey'"),
        ({**SECRET_VALUE, "generate": {"appkey": 1111}}, "generate", "'generate.appkey'"),
        ({**SECRET_VALUE, "generate": {"appkey": None}}, "generate", "'generate.appkey'"),
        (
            {**SECRET_VALUE, "lookup": {"api_key": "bc-apikey-SECRET-2222"}},
            "lookup",
            "'lookup.secret_key'",
        ),
        (
            {**SECRET_VALUE, "lookup": {"secret_key": "bc-secret-SECRET-3333"}},
            "lookup",
            "'lookup.api_key'",
        ),
        (
            {**SECRET_VALUE, "lookup": {"api_key": "bc-apikey-SECRET-2222", "secret_key": ""}},
            "lookup",
            "'lookup.secret_key'",
        ),
        ({}, "lookup", "'lookup'"),
    ],
)
def test_missing_section_or_key_names_it(
    aws: None, document: dict[str, Any], method: str, names: str
) -> None:
    put(document)
    with pytest.raises(CredentialsMissing) as info:
        getattr(SecretStore(SECRET), method)()
    assert names in info.value.detail
    assert SECRET in info.value.detail
    assert_secret_free(info.value)


def test_a_fixed_secret_is_picked_up_on_refresh(aws: None) -> None:
    put({**SECRET_VALUE, "lookup": {"api_key": "", "secret_key": ""}})
    store = SecretStore(SECRET)
    with pytest.raises(CredentialsMissing, match=r"lookup\.api_key"):
        store.lookup()
    put(SECRET_VALUE)
    assert store.lookup(refresh=True).secret_key.get_secret_value() == "bc-secret-SECRET-3333"


# --- wired to the clients: rotation end to end -------------------------------------------


@responses.activate
def test_generation_rotation_through_the_store(secret: dict[str, Any]) -> None:
    store = SecretStore(SECRET)
    url = "https://api.gugudata.com/barcode/barcode"
    gugu = GuGuDataClient(
        url,
        lambda refresh: store.generate(refresh).appkey.get_secret_value(),
        policy=RetryPolicy(backoff=0),
    )
    store.generate()  # warm the cache with the old key
    put(ROTATED)  # the operator rotates the key
    responses.get(url, status=401)
    responses.get(
        url,
        json={"DataStatus": {"StatusCode": 100}, "Data": {"Url": "https://cdn.example.com/a.png"}},
    )
    assert gugu.generate(type="EAN13", content="6901234567892", width=300, height=100).url == (
        "https://cdn.example.com/a.png"
    )
    assert "appkey=gg-appkey-SECRET-1111" in str(responses.calls[0].request.url)
    assert "appkey=gg-appkey-ROTATED-9999" in str(responses.calls[1].request.url)


@responses.activate
def test_lookup_rotation_through_the_store(secret: dict[str, Any]) -> None:
    store = SecretStore(SECRET)

    def keys(refresh: bool) -> tuple[str, str]:
        creds = store.lookup(refresh)
        return creds.api_key.get_secret_value(), creds.secret_key.get_secret_value()

    url = "https://tiaoma.cnaidc.com/api/api_query.php"
    lookup = BaichuanClient(url, keys, policy=RetryPolicy(backoff=0))
    store.lookup()
    put(ROTATED)
    responses.post(url, json={"code": 0, "msg": "API Key或Secret Key错误"})
    responses.post(url, json={"code": 1, "msg": "查询成功", "data": {"code_name": "水"}})
    product = lookup.query("6901234567892")
    assert isinstance(product, UpstreamProduct)
    assert product.name == "水"
    assert "secret_key=bc-secret-ROTATED-7777" in str(responses.calls[1].request.body)


def test_concurrent_first_reads_fetch_the_secret_once(
    secret: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = secretsmanager()
    fetches: list[str] = []
    real = client.get_secret_value

    def counted(**kwargs: Any) -> Any:
        fetches.append(kwargs["SecretId"])
        time.sleep(0.05)  # a real round trip: the other threads arrive meanwhile
        return real(**kwargs)

    monkeypatch.setattr(client, "get_secret_value", counted)
    store = SecretStore(SECRET)
    barrier = threading.Barrier(6)
    keys: list[str] = []

    def read() -> None:
        barrier.wait()
        keys.append(store.lookup().api_key.get_secret_value())

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keys == [secret["lookup"]["api_key"]] * 6
    assert fetches == [SECRET]
