"""Who a request comes from, read from the API Gateway request context.

Shapes as API Gateway's REST proxy integration sends them: `identity.apiKeyId` for the
usage plan's key, and behind a Cognito user pools authorizer `authorizer.claims` (the
ID token's claims, every value a string).
"""

from __future__ import annotations

from typing import Any

import pytest

from barcode_service.callers import ANONYMOUS, Caller, caller_of
from tests.conftest import load_event

COGNITO_CLAIMS = {
    "sub": "6c1e2f3a-0b4d-4e5f-8a9b-0c1d2e3f4a5b",
    "email_verified": "true",
    "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
    "cognito:username": "6c1e2f3a-0b4d-4e5f-8a9b-0c1d2e3f4a5b",
    "aud": "4f5g6h7i8j9k0l1m2n3o4p5q6r",
    "token_use": "id",
    "auth_time": "1796170000",
    "exp": "Wed Dec 02 02:00:00 UTC 2026",
    "iat": "Wed Dec 02 01:00:00 UTC 2026",
    "email": "someone@example.com",
}


def signed_in(claims: Any) -> dict[str, Any]:
    event = load_event("lookup_get.json")
    event["requestContext"]["authorizer"] = {"claims": claims, "principalId": ""}
    return event


def test_the_api_key_of_the_events_names_the_caller() -> None:
    caller = caller_of(load_event("lookup_get.json"))
    assert caller == Caller("api_key", "k7x2m9p4q1")
    assert caller.known


def test_a_cognito_user_is_the_caller_not_the_shared_key() -> None:
    caller = caller_of(signed_in(COGNITO_CLAIMS))
    assert caller == Caller("user", COGNITO_CLAIMS["sub"])
    # The same user through another app key is the same caller.
    other_key = signed_in(COGNITO_CLAIMS)
    other_key["requestContext"]["identity"]["apiKeyId"] = "another-key"
    assert caller_of(other_key).key == caller.key
    # Never the e-mail or the username: those can change, the sub cannot.
    assert COGNITO_CLAIMS["email"] not in caller.id


@pytest.mark.parametrize(
    "claims",
    [{}, {"sub": ""}, {"sub": 42}, "sub=x", None, {"email": "someone@example.com"}],
    ids=["empty", "blank-sub", "number-sub", "not-a-map", "none", "no-sub"],
)
def test_claims_without_a_usable_sub_fall_back_to_the_key(claims: Any) -> None:
    assert caller_of(signed_in(claims)) == Caller("api_key", "k7x2m9p4q1")


def test_a_lambda_authorizer_context_is_not_taken_for_a_user() -> None:
    event = load_event("lookup_get.json")
    event["requestContext"]["authorizer"] = {"principalId": "someone", "sub": "forged"}
    assert caller_of(event) == Caller("api_key", "k7x2m9p4q1")


def test_nobody_known() -> None:
    event = load_event("lookup_get.json")
    event["requestContext"]["identity"]["apiKeyId"] = None
    assert caller_of(event) == ANONYMOUS
    assert caller_of({"requestContext": "x"}) == ANONYMOUS


def test_kinds_never_collide_and_keys_are_not_reversible() -> None:
    key, user = Caller("api_key", "abc"), Caller("user", "abc")
    assert key.key != user.key
    assert "abc" not in key.key
    assert len({Caller("api_key", f"k{n}").key for n in range(1000)}) == 1000
