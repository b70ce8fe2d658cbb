"""Community catalog requests for tests: contribution and lookup events per API key."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.conftest import load_event

KEY_A, KEY_B, KEY_C = "key-id-alice", "key-id-bob", "key-id-carol"
UNKNOWN = "0012345678905"  # a valid UPC-A nobody in the tests knows


def as_caller(event: dict[str, Any], key_id: str) -> dict[str, Any]:
    event["requestContext"]["identity"]["apiKeyId"] = key_id
    return event


def contribution_event(
    code: str, body: Any, key_id: str = KEY_A, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """`POST /v1/products/{code}` with `body` (a dict is sent as JSON) as API key `key_id`."""
    event = copy.deepcopy(load_event("lookup_contribute.json"))
    event["path"] = f"/products/{code}"
    event["requestContext"]["path"] = f"/v1/products/{code}"
    event["pathParameters"] = {"code": code}
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["queryStringParameters"] = query
    return as_caller(event, key_id)


def lookup_event(code: str, key_id: str = KEY_A) -> dict[str, Any]:
    """`GET /v1/products/{code}` as API key `key_id`."""
    event = copy.deepcopy(load_event("lookup_get.json"))
    event["path"] = f"/products/{code}"
    event["requestContext"]["path"] = f"/v1/products/{code}"
    event["pathParameters"] = {"code": code}
    return as_caller(event, key_id)


SOAP = {"name": "Eco Dish Soap, Lemon", "brand": "Clearwater", "quantity": "500 ml"}
SOAP_AGAIN = {"name": "eco dish soap lemon", "brand": "CLEARWATER", "category": "Dish soap"}
