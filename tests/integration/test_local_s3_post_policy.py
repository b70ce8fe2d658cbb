"""The local stack's moto refuses presigned POSTs that S3 refuses, with S3's answer.

The policy is the one UploadService signs; the server is the one `make run` starts
(local/s3_post.py). Before: moto stored an empty file, a 6.3 MB list and a 22 MB photo
(204), and only the upload job failed later. Now the POST itself is refused, nothing is
stored and nothing is queued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import unquote_plus

import boto3
import pytest
import requests
from botocore.config import Config

from barcode_service.settings import get_settings
from barcode_service.uploads.jobs import JobStore
from barcode_service.uploads.service import UploadService
from local.s3_post import LocalMotoServer, check_post, cors_headers

BUCKET = "local-uploads"
MB = 1024 * 1024
TIMEOUT = 30


class Jobs:
    def create(self, upload_id: str, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Local:
    server: LocalMotoServer
    s3: Any
    sqs: Any
    queue_url: str
    service: UploadService

    def upload(self, filename: str, content_type: str) -> dict[str, Any]:
        created = self.service.create(filename, content_type, "http://127.0.0.1:3000/v1", "k1")
        return cast(dict[str, Any], created["upload"])

    def post(
        self, upload: dict[str, Any], body: bytes, fields: dict[str, str] | None = None
    ) -> requests.Response:
        form = {**upload["fields"], **(fields or {})}
        files = {"file": ("file", body)}
        return requests.post(upload["url"], data=form, files=files, timeout=TIMEOUT)

    def stored(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def queued(self) -> list[str]:
        found = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        bodies = [json.loads(m["Body"]) for m in found.get("Messages", [])]
        return [
            unquote_plus(r["s3"]["object"]["key"]) for b in bodies for r in b.get("Records", [])
        ]


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> Iterator[Local]:
    for name in ("AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("UPLOADS_BUCKET", BUCKET)
    # boto3's default session keeps the credentials it resolved first (an earlier test's
    # "testing" keys): a fresh one signs with the local keys the server checks.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    get_settings.cache_clear()
    server = LocalMotoServer("127.0.0.1", 0, {"local": "local"})
    server.start()
    # moto's state is per process: start from nothing, leave nothing behind.
    requests.post(f"{server.url}/moto-api/reset", timeout=TIMEOUT)
    try:
        # Signed as build_upload_service signs (SigV4); the expiry test below uses SigV2.
        s3 = boto3.client(
            "s3",
            endpoint_url=server.url,
            region_name="us-east-1",
            config=Config(signature_version="s3v4"),
        )
        sqs = boto3.client("sqs", endpoint_url=server.url, region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        # As template.yaml's UploadsBucket: web clients POST the form straight to S3.
        rule = {"AllowedMethods": ["POST", "PUT", "GET"], "AllowedOrigins": ["*"]}
        s3.put_bucket_cors(
            Bucket=BUCKET,
            CORSConfiguration={
                "CORSRules": [{**rule, "AllowedHeaders": ["*"], "MaxAgeSeconds": 600}]
            },
        )
        queue_url = sqs.create_queue(QueueName="uploads")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        service = UploadService(get_settings(), s3, cast(JobStore, Jobs()))
        yield Local(server, s3, sqs, queue_url, service)
    finally:
        requests.post(f"{server.url}/moto-api/reset", timeout=TIMEOUT)
        server.stop()


def error_of(response: requests.Response) -> dict[str, str]:
    assert response.headers["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)  # noqa: S314 (our own local server's answer)
    assert root.tag == "Error"
    return {child.tag: child.text or "" for child in root}


def test_a_file_within_the_policy_is_stored_and_notified(local: Local) -> None:
    upload = local.upload("codes.csv", "text/csv")
    assert "x-amz-signature" in upload["fields"]  # SigV4, as in AWS
    response = local.post(upload, b"code\n6901234567892\n")
    assert response.status_code == 204
    key = upload["fields"]["key"]
    assert local.stored() == [key]
    assert key in local.queued()


def test_an_empty_file_is_entity_too_small(local: Local) -> None:
    response = local.post(local.upload("codes.csv", "text/csv"), b"")
    assert response.status_code == 400
    error = error_of(response)
    assert error["Code"] == "EntityTooSmall"
    assert error["Message"] == "Your proposed upload is smaller than the minimum allowed size"
    assert (error["ProposedSize"], error["MinSizeAllowed"]) == ("0", "1")
    assert local.stored() == []
    assert local.queued() == []


def test_a_list_over_5_mb_is_entity_too_large(local: Local) -> None:
    body = b"6901234567892\n" * (int(6.3 * MB) // 14)
    response = local.post(local.upload("codes.csv", "text/csv"), body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["Code"] == "EntityTooLarge"
    assert error["Message"] == "Your proposed upload exceeds the maximum allowed size"
    assert error["ProposedSize"] == str(len(body))
    assert error["MaxSizeAllowed"] == str(5 * MB)
    assert local.stored() == []
    assert local.queued() == []


def test_a_photo_over_its_limit_is_entity_too_large(local: Local) -> None:
    body = b"\xff\xd8\xff" + b"\0" * (22 * MB)
    response = local.post(local.upload("shelf.jpg", "image/jpeg"), body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["Code"] == "EntityTooLarge"
    assert error["MaxSizeAllowed"] == str(get_settings().upload_max_image_bytes)
    assert local.stored() == []


def test_a_wrong_content_type_is_access_denied(local: Local) -> None:
    upload = local.upload("codes.csv", "text/csv")
    response = local.post(upload, b"code\n1\n", {"Content-Type": "text/html"})
    assert response.status_code == 403
    error = error_of(response)
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "text/csv"]'
    )
    assert local.stored() == []


def test_another_key_is_access_denied(local: Local) -> None:
    upload = local.upload("codes.csv", "text/csv")
    key = upload["fields"]["key"]
    response = local.post(upload, b"code\n1\n", {"key": "barcodes/evil.png"})
    assert response.status_code == 403
    error = error_of(response)
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "{key}"]'
    )
    assert local.stored() == []
    assert local.queued() == []


def test_an_extra_field_is_access_denied(local: Local) -> None:
    upload = local.upload("codes.csv", "text/csv")
    response = local.post(upload, b"code\n1\n", {"x-amz-meta-owner": "me"})
    assert response.status_code == 403
    assert error_of(response)["Message"] == (
        "Invalid according to Policy: Extra input fields: x-amz-meta-owner"
    )


def test_a_policy_edited_by_the_client_does_not_match_its_signature(local: Local) -> None:
    upload = local.upload("codes.csv", "text/csv")
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    policy["conditions"] = [
        ["content-length-range", 0, 100 * MB] if isinstance(c, list) else c
        for c in policy["conditions"]
    ]
    edited = base64.b64encode(json.dumps(policy).encode()).decode()
    response = local.post(upload, b"", {"policy": edited})
    assert response.status_code == 403
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"
    assert local.stored() == []


def test_no_file_is_refused(local: Local) -> None:
    upload = local.upload("codes.csv", "text/csv")
    # Every field as a non-file part: multipart, but no file.
    response = requests.post(
        upload["url"],
        files={name: (None, value) for name, value in upload["fields"].items()},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert error_of(response)["Code"] == "IncorrectNumberOfFilesInPostRequest"


def test_an_expired_policy_is_access_denied() -> None:
    expired = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = {"expiration": expired, "conditions": [{"bucket": BUCKET}]}
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    digest = hmac.new(b"local", encoded.encode(), hashlib.sha1).digest()
    fields = {
        "policy": encoded,
        "AWSAccessKeyId": "local",
        "signature": base64.b64encode(digest).decode(),
    }
    error = check_post(fields, [("f", 1)], BUCKET, secrets={"local": "local"})
    assert error is not None
    assert (error.status, error.code) == (403, "AccessDenied")
    assert error.message == "Invalid according to Policy: Policy expired."


def test_a_post_without_a_policy_is_access_denied() -> None:
    error = check_post({"key": "uploads/x.csv"}, [("f", 1)], BUCKET, secrets={})
    assert error is not None
    assert (error.status, error.code, error.message) == (403, "AccessDenied", "Access Denied")


def test_other_requests_reach_moto_untouched(local: Local) -> None:
    local.s3.put_object(Bucket=BUCKET, Key="results/x.json", Body=b"{}")
    assert local.stored() == ["results/x.json"]
    deleted = local.s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "results/x.json"}]}
    )
    assert deleted["Deleted"][0]["Key"] == "results/x.json"


def test_a_refusal_carries_the_buckets_cors_headers_for_a_browser(local: Local) -> None:
    upload = local.upload("codes.csv", "text/csv")
    form = {**upload["fields"]}
    response = requests.post(
        upload["url"],
        data=form,
        files={"file": ("codes.csv", b"")},
        headers={"Origin": "http://localhost:5173"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    no_origin = local.post(local.upload("codes.csv", "text/csv"), b"")
    assert "Access-Control-Allow-Origin" not in no_origin.headers


def test_cors_headers_follow_the_first_rule_allowing_a_post_from_the_origin() -> None:
    rules = [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
        {
            "AllowedMethods": ["POST"],
            "AllowedOrigins": ["https://*.example.com"],
            "ExposeHeaders": ["ETag"],
        },
    ]
    headers = dict(cors_headers("https://app.example.com", rules))
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Expose-Headers"] == "ETag"
    assert cors_headers("https://evil.test", rules) == []
    assert cors_headers(None, rules) == []
