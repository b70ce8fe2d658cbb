"""events/ holds one realistic event per route and per trigger, in the shapes AWS sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.test_openapi import template_routes
from tests.support.template_facts import PUBLIC_PATHS

EVENTS = Path(__file__).resolve().parents[2] / "events"
REFERENCE = json.loads((EVENTS / "api_health.json").read_text(encoding="utf-8"))


def _events() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(EVENTS.glob("*.json"))
    }


API_EVENTS = {name: e for name, e in _events().items() if "httpMethod" in e}
SQS_EVENTS = {name: e for name, e in _events().items() if "Records" in e}


def test_every_route_has_an_event(sam_template: dict[str, Any]) -> None:
    covered = {(e["httpMethod"].upper(), e["resource"]) for e in API_EVENTS.values()}
    assert template_routes(sam_template) <= covered


@pytest.mark.parametrize("name", sorted(API_EVENTS))
def test_api_events_have_the_rest_proxy_shape(name: str) -> None:
    event = API_EVENTS[name]
    assert set(event) == set(REFERENCE), name
    context = event["requestContext"]
    assert set(context) >= {"stage", "requestId", "path", "resourcePath", "httpMethod", "identity"}
    assert context["stage"] == "v1"
    assert context["path"] == "/v1" + event["path"]
    assert context["resourcePath"] == event["resource"]
    assert context["httpMethod"] == event["httpMethod"]
    for header, value in event["headers"].items():
        assert event["multiValueHeaders"][header] == [value], (name, header)
    if event["resource"] not in PUBLIC_PATHS:
        assert event["headers"].get("x-api-key"), name
        assert context["identity"]["apiKeyId"], name


@pytest.mark.parametrize("name", sorted(SQS_EVENTS))
def test_sqs_events_carry_s3_notifications(name: str) -> None:
    records = SQS_EVENTS[name]["Records"]
    assert records
    for record in records:
        assert record["eventSource"] == "aws:sqs"
        assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody"} <= set(record)
        body = json.loads(record["body"])
        assert "Records" in body or body.get("Event") == "s3:TestEvent"
