"""POST /labels through the generate handler with events/labels_post.json: JSON naming a
stored PDF, the PDF itself for an Accept of application/pdf, redirects, 304s, and the
400s that name the field or label that is wrong."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import boto3
import pytest

from barcode_service.labels import parse_labels
from functions.generate import app
from local.context import LambdaContext
from tests.conftest import load_event, response_headers
from tests.integration.test_generate_responses import (  # the autouse fixture too
    BUCKET,
    _fresh_service,  # noqa: F401
)
from tests.support.printed import pages, read


def post(body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    event = copy.deepcopy(load_event("labels_post.json"))
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    response = app.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), response


def test_the_event_answers_json_naming_a_stored_pdf_then_cached() -> None:
    status, _, response = post(None)
    assert status == 200
    body = json.loads(response["body"])
    assert body["url"].startswith("https://images.example.com/barcodes/")
    assert body["url"].endswith(".pdf")
    assert body["sheet"]["name"] == "Avery L7160"
    assert (body["pages"], body["labels"], body["start_at"], body["dpi"]) == (1, 3, 4, 300)
    assert (body["verified"], body["cached"], body["format"]) == (True, False, "pdf")
    key = body["url"].removeprefix("https://images.example.com/")
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert stored["ContentType"] == "application/pdf"
    (page,) = pages(stored["Body"].read(), 300)
    sheet = parse_labels(json.loads(load_event("labels_post.json")["body"])).sheet
    x, y = sheet.position(5)  # start_at 4: the EAN-13 is the third label, position 6
    crop = page.crop_mm(x, y, sheet.label_width, sheet.label_height)
    assert read(crop, "EAN13") == ["6901234567892"]
    assert json.loads(post(None)[2]["body"])["cached"] is True


def test_accept_application_pdf_answers_the_pdf_then_304() -> None:
    status, headers, response = post(None, {"Accept": "application/pdf"})
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]).startswith(b"%PDF-")
    again = post(None, {"Accept": "application/pdf", "If-None-Match": headers["ETag"]})
    assert again[0] == 304


def test_response_pdf_without_a_pdf_accept_and_redirect_are_302s() -> None:
    body = json.loads(load_event("labels_post.json")["body"])
    for mode in ("pdf", "redirect"):
        status, headers, _ = post({**body, "response": mode})
        assert status == 302
        assert headers["Location"].endswith(".pdf")


def one(**label: Any) -> dict[str, Any]:
    """An L7160 request of one label, e.g. one(type="qr", content="1")."""
    return {"sheet": "L7160", "labels": [label]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (one(type="ean13", content="6901234567893"), "labels[0].content"),
        ({**one(type="ean13", content="6901234567892"), "sheet": "L9"}, "sheet"),
        ({"sheet": "L7160", "labels": []}, "labels"),
        (one(type="nope", content="1"), "labels[0].type"),
        (one(type="qr", content="1", copies=1001), "labels[0].copies"),
        ({**one(type="qr", content="1"), "start_at": 22}, "start_at"),
        (one(type="qr", content="1", lines=["漢字"]), "labels[0].lines[0]"),
        ({**one(type="qr", content="1"), "response": "png"}, "response"),
        ({**one(type="qr", content="1"), "response": {}}, "response"),
        ({**one(type="qr", content="1"), "response": None}, "response"),
        ({**one(type="qr", content="1"), "colour": 1}, "colour"),
    ],
)
def test_a_wrong_field_is_a_400_naming_it(body: dict[str, Any], field: str) -> None:
    status, _, response = post(body)
    assert status == 400
    problem = json.loads(response["body"])
    assert field in [p["name"] for p in problem["invalid_params"]]


def test_a_label_that_does_not_fit_is_a_400_naming_it() -> None:
    labels = [{"type": "qrcode", "content": "A1"}, {"type": "ean13", "content": "6901234567892"}]
    status, _, response = post({"sheet": "L7651", "labels": labels})
    assert status == 400
    problem = json.loads(response["body"])
    assert [p["name"] for p in problem["invalid_params"]] == ["labels[1]"]
    assert problem["detail"].startswith("label 1: EAN-13 needs at least")


def test_more_than_a_thousand_labels_points_to_uploads() -> None:
    labels = [
        {"type": "qr", "content": "1", "copies": 600},
        {"type": "qr", "content": "2", "copies": 401},
    ]
    status, _, response = post({"sheet": "L7160", "labels": labels})
    assert status == 400
    assert "at most 1000" in json.loads(response["body"])["detail"]


def test_a_body_that_is_not_json_is_a_400() -> None:
    assert post("not json")[0] == 400
