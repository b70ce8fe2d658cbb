"""A contribution's photo through the uploads pipeline, and its share with Open Food Facts
retried from the share queue by the upload worker: handlers, moto and a fake write API."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
import requests
import responses
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from PIL import Image

from barcode_service.community.store import DynamoCommunityStore
from barcode_service.settings import get_settings
from functions.lookup import app as lookup_app
from functions.upload_worker import app as worker_app
from functions.uploads import app as uploads_app
from local.context import LambdaContext
from local.poller import lambda_record
from tests.conftest import SECRET, SECRET_VALUE, TABLE, load_event, response_headers
from tests.support.community import KEY_A, SOAP, UNKNOWN, contribution_event, lookup_event
from tests.support.upstreams import (
    OFF_BAD_LOGIN_PAGE,
    off_not_found,
    off_product_url,
    off_write_accepted,
    off_write_refused,
    off_write_url,
)

UPLOADS = "barcode-uploads-123456789012-us-east-1-0a1b2c3d4e5f"
IMAGES = "barcode-images-test"
ACCOUNT = {"user_id": "barcode-app-bot", "password": "off-PASSWORD-SECRET-4444"}


@dataclass
class Queues:
    sqs: Any
    uploads: str
    shares: str

    def arn(self, url: str) -> str:
        answer = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(answer["Attributes"]["QueueArn"])

    def drain(self, url: str, failures_expected: bool = False) -> list[dict[str, Any]]:
        """Feed `url`'s messages to the worker once, as the event source mapping does."""
        messages = self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return []
        event = {"Records": [lambda_record(m, self.arn(url), "us-east-1") for m in messages]}
        try:
            response = worker_app.lambda_handler(event, LambdaContext())
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        except BatchProcessingError:  # every record failed: the invocation fails
            failed = {m["MessageId"] for m in messages}
        assert bool(failed) == failures_expected, failed
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return list(messages)


@pytest.fixture(autouse=True)
def _fresh_handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LOOKUP_PROVIDERS", "openfoodfacts,community")
    for cached in (
        uploads_app.service,
        worker_app.worker,
        lookup_app.service,
        lookup_app.community,
    ):
        cached.cache_clear()
    yield
    for cached in (
        uploads_app.service,
        worker_app.worker,
        lookup_app.service,
        lookup_app.community,
    ):
        cached.cache_clear()


@pytest.fixture
def queues(table: str, monkeypatch: pytest.MonkeyPatch) -> Queues:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    s3.create_bucket(Bucket=UPLOADS)
    s3.create_bucket(Bucket=IMAGES)
    uploads = sqs.create_queue(QueueName="uploads")["QueueUrl"]
    # Visible again at once after a failed delivery (SQS waits the visibility timeout).
    shares = sqs.create_queue(QueueName="community-shares", Attributes={"VisibilityTimeout": "0"})[
        "QueueUrl"
    ]
    monkeypatch.setenv("UPLOADS_BUCKET", UPLOADS)
    monkeypatch.setenv("UPLOADS_QUEUE_URL", uploads)
    monkeypatch.setenv("IMAGES_BUCKET", IMAGES)
    monkeypatch.setenv("IMAGES_BASE_URL", "https://images.example.com")
    monkeypatch.setenv("COMMUNITY_SHARE_QUEUE_URL", shares)
    monkeypatch.setenv("WORKER_TIME_MARGIN_SECONDS", "0")
    queue = Queues(sqs, uploads, shares)
    rules = [{"Name": "prefix", "Value": "uploads/"}]
    s3.put_bucket_notification_configuration(
        Bucket=UPLOADS,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue.arn(uploads),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            ]
        },
    )
    queue.drain(uploads)  # S3's test event
    return queue


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    """Open Food Facts' read API does not know UNKNOWN (uploads happen before this mock)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(off_product_url(UNKNOWN), json=off_not_found(UNKNOWN), status=404)
        yield mock


def call(handler: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = handler.lambda_handler(event, LambdaContext())
    return response["statusCode"], response_headers(response), json.loads(response["body"])


def photo() -> bytes:
    """A phone photo: 3000 x 2000 px JPEG, taken sideways (EXIF orientation 6), with GPS."""
    image = Image.new("RGB", (3000, 2000), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to view
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload_product_photo(queues: Queues, key_id: str = KEY_A) -> str:
    event = load_event("uploads_create.json")
    event["body"] = json.dumps(
        {"filename": "soap.jpg", "content_type": "image/jpeg", "purpose": "product_image"}
    )
    event["requestContext"]["identity"]["apiKeyId"] = key_id
    status, _, created = call(uploads_app, event)
    assert status == 201, created
    post = created["upload"]
    sent = requests.post(
        post["url"], data=post["fields"], files={"file": ("soap.jpg", photo())}, timeout=5
    )
    assert sent.status_code == 204
    assert len(queues.drain(queues.uploads)) == 1
    return str(created["upload_id"])


def status_of(upload_id: str, key_id: str = KEY_A) -> dict[str, Any]:
    event = load_event("uploads_status.json")
    event["path"] = f"/uploads/{upload_id}"
    event["pathParameters"] = {"id": upload_id}
    event["requestContext"]["identity"]["apiKeyId"] = key_id
    status, _, body = call(uploads_app, event)
    assert status == 200
    return dict(body)


def test_a_product_photo_is_checked_stored_and_named_by_a_contribution(
    queues: Queues, secret: dict
) -> None:
    upload_id = upload_product_photo(queues)
    job = status_of(upload_id)
    assert (job["status"], job["purpose"]) == ("done", "product_image")
    (row,) = job["results"]
    assert row["image_url"].startswith("https://images.example.com/products/")
    assert (row["width"], row["height"]) == (1067, 1600), "upright, at most 1600 px a side"
    key = row["image_url"].removeprefix("https://images.example.com/")
    stored = boto3.client("s3").get_object(Bucket=IMAGES, Key=key)
    assert stored["ContentType"] == "image/jpeg"
    image = Image.open(io.BytesIO(stored["Body"].read()))
    assert not image.getexif(), "no metadata (the GPS position) in a public photo"

    body = {**SOAP, "image_upload_id": upload_id}
    with responses.RequestsMock() as upstream:
        upstream.get(off_product_url(UNKNOWN), json=off_not_found(UNKNOWN), status=404)
        status, _, contributed = call(lookup_app, contribution_event(UNKNOWN, body))
    assert status == 201, contributed
    assert contributed["contribution"]["image_url"] == row["image_url"]
    _, _, mine = call(lookup_app, lookup_event(UNKNOWN))
    assert mine["image_url"] == row["image_url"]


def test_a_list_cannot_be_a_product_photo(queues: Queues) -> None:
    event = load_event("uploads_create.json")
    event["body"] = json.dumps(
        {"filename": "codes.csv", "content_type": "text/csv", "purpose": "product_image"}
    )
    status, _, problem = call(uploads_app, event)
    assert status == 400
    assert problem["invalid_params"][0]["name"] == "content_type"
    event["body"] = json.dumps(
        {"filename": "a.jpg", "content_type": "image/jpeg", "purpose": "decoration"}
    )
    assert call(uploads_app, event)[2]["invalid_params"][0]["name"] == "purpose"
    event["body"] = json.dumps({"filename": "a.jpg", "content_type": "image/jpeg", "purpose": None})
    assert call(uploads_app, event)[2]["invalid_params"][0]["name"] == "purpose"


def test_a_damaged_product_photo_fails_its_job(queues: Queues) -> None:
    event = load_event("uploads_create.json")
    event["body"] = json.dumps(
        {"filename": "soap.jpg", "content_type": "image/jpeg", "purpose": "product_image"}
    )
    _, _, created = call(uploads_app, event)
    post = created["upload"]
    files = {"file": ("a.jpg", b"\xff\xd8junk")}
    requests.post(post["url"], data=post["fields"], files=files, timeout=5)
    queues.drain(queues.uploads)
    job = status_of(created["upload_id"], "k7x2m9p4q1")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "unreadable_upload"


# --- sharing with Open Food Facts ---------------------------------------------------------


@pytest.fixture
def sharing(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Queues:
    monkeypatch.setenv("COMMUNITY_SHARE_OPENFOODFACTS", "true")
    monkeypatch.setenv("OPENFOODFACTS_APP_NAME", "PantryPal")
    boto3.client("secretsmanager").create_secret(
        Name=SECRET, SecretString=json.dumps({**SECRET_VALUE, "openfoodfacts": ACCOUNT})
    )
    get_settings.cache_clear()  # the queues' set-up already read the settings
    worker_app.worker.cache_clear()
    return queues


def shared_form(upstream: responses.RequestsMock) -> dict[str, str]:
    (call_,) = [c for c in upstream.calls if c.request.url == off_write_url()]
    form = parse_qs(str(call_.request.body))
    return {name: values[0] for name, values in form.items()}


def test_a_shared_contribution_is_sent_with_the_account_and_the_app(
    sharing: Queues, upstream: responses.RequestsMock
) -> None:
    upstream.post(off_write_url(), json=off_write_accepted())
    status, _, body = call(lookup_app, contribution_event(UNKNOWN, {**SOAP, "share": True}))
    assert status == 201
    assert body["shared"] is True, body["share"]
    assert body["share"] == {"status": "accepted", "reason": "fields saved"}
    form = shared_form(upstream)
    assert form["code"] == UNKNOWN
    assert (form["product_name"], form["brands"], form["quantity"]) == (
        "Eco Dish Soap, Lemon",
        "Clearwater",
        "500 ml",
    )
    assert (form["user_id"], form["password"]) == (ACCOUNT["user_id"], ACCOUNT["password"])
    assert form["app_name"] == "PantryPal"
    assert form["app_version"]
    assert len(form["app_uuid"]) == 32
    assert KEY_A not in json.dumps(form), "an anonymous id, never the caller's key"
    assert not sharing.drain(sharing.shares), "nothing left to retry"


def test_a_refused_share_says_why_and_is_not_retried(
    sharing: Queues, upstream: responses.RequestsMock
) -> None:
    upstream.post(off_write_url(), json=off_write_refused("Edit against edit rules"))
    _, _, body = call(lookup_app, contribution_event(UNKNOWN, {**SOAP, "share": True}))
    assert body["shared"] is False
    assert body["share"]["status"] == "refused"
    assert "Edit against edit rules" in body["share"]["reason"]
    assert body["status"] == "pending", "the contribution stands whatever Open Food Facts says"
    assert not sharing.drain(sharing.shares)


def test_a_failed_share_is_retried_from_the_queue_and_loses_nothing(
    sharing: Queues, upstream: responses.RequestsMock
) -> None:
    down = upstream.post(off_write_url(), body="upstream connect error", status=503)
    _, _, body = call(lookup_app, contribution_event(UNKNOWN, {**SOAP, "share": True}))
    assert body["shared"] is False
    assert body["share"]["status"] == "queued"
    assert "will be retried" in body["share"]["reason"]
    assert call(lookup_app, lookup_event(UNKNOWN))[0] == 200, "the contribution is kept"

    sharing.drain(sharing.shares, failures_expected=True)  # still down: delivered again later
    upstream.remove(down)
    upstream.post(off_write_url(), json=off_write_accepted())
    assert len(sharing.drain(sharing.shares)) == 1
    record = DynamoCommunityStore(TABLE, boto3.client("dynamodb")).get("0" + UNKNOWN)
    assert record is not None
    share = record.contributions[0].share
    assert share is not None
    assert (share.status, share.attempts) == ("accepted", 3)


def test_a_refused_account_waits_in_the_queue_for_an_operator(
    sharing: Queues, upstream: responses.RequestsMock
) -> None:
    upstream.post(off_write_url(), body=OFF_BAD_LOGIN_PAGE, status=403)
    _, _, body = call(lookup_app, contribution_event(UNKNOWN, {**SOAP, "share": True}))
    assert body["share"]["status"] == "queued"
    assert "account" in body["share"]["reason"]
    assert ACCOUNT["password"] not in json.dumps(body)


def test_the_account_never_reaches_a_log_line(
    sharing: Queues,
    upstream: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream.post(off_write_url(), body=OFF_BAD_LOGIN_PAGE, status=403)
    call(lookup_app, contribution_event(UNKNOWN, {**SOAP, "share": True}))
    upstream.replace(responses.POST, off_write_url(), body="down", status=503)
    sharing.drain(sharing.shares, failures_expected=True)
    written = caplog.text + "".join(capsys.readouterr())
    assert "CommunityShareQueued" in written, "the capture saw the handlers' output"
    assert ACCOUNT["password"] not in written
    assert ACCOUNT["user_id"] not in written
