"""format=pdf|eps through the generate handler: the file itself (Accept), JSON with a
stored, content-addressed URL, redirects, and the unit=px refusal."""

from __future__ import annotations

import base64
import json

import boto3

from tests.integration.test_generate_responses import (  # the autouse fixture too
    BUCKET,
    _fresh_service,  # noqa: F401
    call,
    get_event,
)
from tests.support.printed import eps_bounding_box, pages, read

LABEL = {"type": "code128", "content": "LABEL-0042", "unit": "mm", "width": "40", "height": "20"}


def test_accept_application_pdf_answers_the_pdf_bytes() -> None:
    status, headers, response = call(get_event(LABEL, {"Accept": "application/pdf"}))
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["isBase64Encoded"] is True
    (page,) = pages(base64.b64decode(response["body"]), 300)
    assert (round(page.width_mm, 1), round(page.height_mm, 1)) == (40.0, 20.0)
    assert read(page.image, "Code128") == ["LABEL-0042"]


def test_eps_is_answered_as_text() -> None:
    query = {**LABEL, "format": "eps", "response": "image"}
    status, headers, response = call(get_event(query, {"Accept": "*/*"}))
    assert status == 200
    assert headers["Content-Type"] == "application/postscript"
    assert response["isBase64Encoded"] is False
    _, _, x1, y1 = eps_bounding_box(response["body"].encode("ascii"))
    assert (round(x1 / 72 * 25.4, 1), round(y1 / 72 * 25.4, 1)) == (40.0, 20.0)


def test_json_names_a_stored_pdf_and_a_second_request_is_cached() -> None:
    query = {**LABEL, "format": "pdf"}
    status, _, response = call(get_event(query))
    assert status == 200
    body = json.loads(response["body"])
    assert body["format"] == "pdf"
    assert body["url"].startswith("https://images.example.com/barcodes/")
    assert body["url"].endswith(".pdf")
    assert (body["backend"], body["verified"], body["module_px"]) == ("local", True, 3.0)
    assert body["cached"] is False
    key = body["url"].removeprefix("https://images.example.com/")
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert stored["ContentType"] == "application/pdf"
    assert stored["Body"].read().startswith(b"%PDF-")
    assert json.loads(call(get_event(query))[2]["body"])["cached"] is True


def test_a_pdf_for_a_client_that_cannot_take_bytes_is_a_redirect() -> None:
    query = {**LABEL, "format": "pdf", "response": "image"}
    status, headers, _ = call(get_event(query, {"Accept": "*/*"}))
    assert status == 302
    assert headers["Location"].endswith(".pdf")


def test_pixels_for_a_pdf_are_a_400_naming_unit() -> None:
    query = {"type": "code128", "content": "A1", "width": "300", "height": "100", "format": "pdf"}
    status, _, response = call(get_event(query))
    assert status == 400
    problem = json.loads(response["body"])
    assert [p["name"] for p in problem["invalid_params"]] == ["unit"]
