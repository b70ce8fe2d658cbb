"""A label-sheet upload end to end: POST /uploads with purpose "labels", the presigned POST
of a CSV, the worker fed from the queue, and GET /uploads/{id} naming the PDF."""

from __future__ import annotations

import json
from typing import Any

import boto3
import requests

from tests.conftest import load_event
from tests.integration.test_uploads_handlers import (  # the autouse fixture too
    EVENT_BUCKET,
    Stack,
    _fresh_handlers,  # noqa: F401
    call_api,
    drain,
    notify,
    stack,  # noqa: F401
    status_event,
)
from tests.support.printed import pages, read

LABELS = {"sheet": "L7163", "start_at": 2}


def create(labels: object, purpose: str = "labels") -> tuple[int, dict[str, Any]]:
    event = load_event("uploads_create.json")
    body = {"filename": "labels.csv", "content_type": "text/csv", "purpose": purpose}
    event["body"] = json.dumps({**body, "labels": labels})
    status, _, answer = call_api(event)
    return status, answer


def test_a_labels_upload_ends_with_its_pdf(stack: Stack) -> None:  # noqa: F811
    notify(stack)
    drain(stack)  # S3's test event
    status, created = create(LABELS)
    assert status == 201
    post = created["upload"]
    csv_body = b"type,content,line1\r\nean13,6901234567892,Green tea\r\nqrcode,ASSET-7,Desk 7\r\n"
    answer = requests.post(
        post["url"], data=post["fields"], files={"file": ("labels.csv", csv_body)}, timeout=5
    )
    assert answer.status_code == 204
    assert drain(stack) == 1
    status, _, job = call_api(status_event(str(created["upload_id"])))
    assert status == 200
    assert job["status"] == "done"
    assert job["counts"]["labels"] == 2
    assert job["message"] == "2 labels on 1 page: results_url is the PDF"
    key = f"results/{created['upload_id']}.pdf"
    assert key in job["results_url"]
    pdf = boto3.client("s3").get_object(Bucket=EVENT_BUCKET, Key=key)["Body"].read()
    (page,) = pages(pdf, 300)
    # L7163: 2 across; start_at 2 puts the EAN-13 top right, the QR code under the first.
    crop = page.crop_mm(4.65 + 101.6, 15.15, 99.1, 38.1)
    assert read(crop, "EAN13") == ["6901234567892"]
    assert read(page.crop_mm(4.65, 15.15 + 38.1, 99.1, 38.1), "QRCode") == ["ASSET-7"]


def test_a_wrong_sheet_is_refused_before_anything_is_uploaded(stack: Stack) -> None:  # noqa: F811
    status, problem = create({"sheet": "L9999"})
    assert status == 400
    assert [p["name"] for p in problem["invalid_params"]] == ["labels.sheet"]
    status, problem = create(LABELS, purpose="print")
    assert status == 400
    status, problem = create(None, purpose="lookup")  # null is no value
    assert [p["name"] for p in problem["invalid_params"]] == ["labels"]
