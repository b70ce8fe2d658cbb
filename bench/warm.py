"""Warm overhead: a cache-hit lookup through the whole handler vs a bare DynamoDB GetItem.

Both go to the same moto server on loopback (its own process), in the same run,
interleaved one for one; medians are compared. The handler runs as deployed except
tracing (POWERTOOLS_TRACE_DISABLED=true: no X-Ray daemon here); metrics stay on and
their EMF lines, like the log lines, go to /dev/null.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from typing import Any

from local.context import LambdaContext

from .common import (
    SECRET_ID,
    TABLE,
    Figure,
    apply_environment,
    create_cache_table,
    ensure_paths,
    fake_aws_environment,
    load_event,
    median,
    module_main,
    moto_server,
    seed_product,
    stdout_to_devnull,
)

TARGET_RATIO = 1.3
GTIN14 = "06901234567892"  # the code of events/lookup_get.json


def _environment(endpoint: str) -> dict[str, str]:
    return {
        **fake_aws_environment(endpoint),
        "CACHE_TABLE": TABLE,
        "SECRET_ID": SECRET_ID,
        "LOOKUP_API_URL": "http://127.0.0.1:9/never-called",
        "POWERTOOLS_SERVICE_NAME": "lookup",
        "POWERTOOLS_METRICS_NAMESPACE": "BarcodeBackend",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def measure(rounds: int) -> tuple[list[float], list[float]]:
    """(handler seconds, bare GetItem seconds) per round, against a fresh moto server."""
    with moto_server() as endpoint:
        apply_environment(_environment(endpoint))
        ensure_paths()
        import boto3

        from barcode_service.settings import get_settings

        get_settings.cache_clear()
        client = boto3.client("dynamodb")
        create_cache_table(client)
        seed_product(client, TABLE, GTIN14)
        app: Any = importlib.import_module("functions.lookup.app")
        app.service.cache_clear()
        event = load_event("lookup_get.json")
        context = LambdaContext()
        key = {"pk": {"S": f"PRODUCT#{GTIN14}"}}

        def handler() -> None:
            response = app.lambda_handler(event, context)
            if response["statusCode"] != 200 or '"cache"' not in response["body"]:
                raise RuntimeError(f"not a cache hit: {response['statusCode']}")

        def bare() -> None:
            if "Item" not in client.get_item(TableName=TABLE, Key=key):
                raise RuntimeError("the cached item is missing")

        handler_times: list[float] = []
        bare_times: list[float] = []
        with stdout_to_devnull():
            for _ in range(30):  # warm: connections, lazy clients, caches
                handler()
                bare()
            for index in range(rounds):
                # Alternate which goes first so neither always follows the other.
                order = (handler, bare) if index % 2 == 0 else (bare, handler)
                for call in order:
                    started = time.perf_counter()
                    call()
                    elapsed = time.perf_counter() - started
                    (handler_times if call is handler else bare_times).append(elapsed)
        return handler_times, bare_times


def run(quick: bool = False) -> list[Figure]:
    saved = dict(os.environ)
    try:
        handler_times, bare_times = measure(150 if quick else 300)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    handler_ms = median(handler_times) * 1000
    bare_ms = median(bare_times) * 1000
    ratio = handler_ms / bare_ms
    return [
        Figure(
            "warm",
            "cache-hit lookup through the handler",
            f"{handler_ms:.2f} ms = {ratio:.2f}x bare GetItem ({bare_ms:.2f} ms), "
            f"median of {len(handler_times)}",
            f"<= {TARGET_RATIO}x",
            ratio <= TARGET_RATIO,
        )
    ]


if __name__ == "__main__":
    sys.exit(module_main(run))
