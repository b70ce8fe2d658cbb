"""The API's hand-written OpenAPI 3.0 document, shipped in the layer next to this module."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

DOCUMENT = "openapi.json"


@cache
def _load() -> str:
    return resources.files(__package__ or "barcode_service").joinpath(DOCUMENT).read_text("utf-8")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document as a fresh dict (read from disk once per process)."""
    document: dict[str, Any] = json.loads(_load())
    return document
