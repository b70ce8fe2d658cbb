"""DynamoDB plumbing shared by the stores: the call wrapper and the item (de)serialisers.

Low-level client calls only (no resource objects): a failed condition is the caller's
answer, any other client error becomes `UpstreamUnavailable` (a 503 with Retry-After)
naming the table's role, never its name or the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from .errors import UpstreamUnavailable

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CONDITION_FAILED = "ConditionalCheckFailedException"


def call(client: Any, operation: str, what: str, **kwargs: Any) -> Any:
    """`client.<operation>(**kwargs)`; a failed condition is re-raised as is.

    Any other error (an error answer, or none at all) means the table cannot be used:
    UpstreamUnavailable, whose detail says "the <what> is unavailable (<error code>)".
    """
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {}).get("Code", "ClientError")
        if error == CONDITION_FAILED:
            raise
        raise UpstreamUnavailable(f"the {what} is unavailable ({error})", retry_after=2) from None
    except BotoCoreError as exc:  # no answer at all: a connection or credentials problem
        raise UpstreamUnavailable(
            f"the {what} is unavailable ({type(exc).__name__})", retry_after=2
        ) from None


def key(pk: str) -> dict[str, Any]:
    """The `Key` of an item of our single-key tables (hash key `pk`)."""
    return {"pk": {"S": pk}}


def value(python: Any) -> dict[str, Any]:
    """One attribute value in DynamoDB's typed form."""
    typed: dict[str, Any] = _serializer.serialize(python)
    return typed


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's typed form; None attributes are left out."""
    return {name: value(v) for name, v in values.items() if v is not None}


def from_item(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An item as Python values (numbers stay Decimal)."""
    return {name: _deserializer.deserialize(v) for name, v in raw.items()}


def plain(python: Any) -> Any:
    """Deserialised values as JSON-friendly Python (Decimal -> int/float, sets -> sorted lists)."""
    if isinstance(python, Decimal):
        return int(python) if python == python.to_integral_value() else float(python)
    if isinstance(python, dict):
        return {k: plain(v) for k, v in python.items()}
    if isinstance(python, list):
        return [plain(v) for v in python]
    if isinstance(python, set):
        return sorted(plain(v) for v in python)
    return python
