"""Request bodies API Gateway can deliver that are not UTF-8 text (isBase64Encoded)."""

from __future__ import annotations

import base64

from tests.conftest import load_event
from tests.support.faults import assert_defined, call_generate, call_lookup, generate_event

NOT_UTF8 = base64.b64encode(b"\x80\xff{").decode("ascii")


def test_lookup_batch_with_a_non_utf8_body_is_400() -> None:
    event = load_event("lookup_batch.json")
    event.update(body=NOT_UTF8, isBase64Encoded=True)
    result = call_lookup(event)
    assert_defined(result, 400, "invalid_parameter")


def test_generate_with_a_non_utf8_body_is_400() -> None:
    event = generate_event()
    event.update(
        httpMethod="POST", queryStringParameters=None, multiValueQueryStringParameters=None
    )
    event.update(body=NOT_UTF8, isBase64Encoded=True)
    event["headers"]["Content-Type"] = "application/json"
    result = call_generate(event)
    assert_defined(result, 400, "invalid_parameter")
