"""Upload requests, safe keys, presigned POST conditions, job records and status views."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from barcode_service.errors import InvalidParameter, NotFound, ServiceError, UnsupportedType
from barcode_service.settings import load_settings
from barcode_service.uploads.jobs import DynamoJobStore
from barcode_service.uploads.policy import (
    check_upload_id,
    choose_type,
    display_filename,
    parse_upload_key,
    upload_key,
)
from barcode_service.uploads.service import UploadService
from barcode_service.uploads.status import status_view
from tests.conftest import TABLE

BUCKET = "test-uploads"
UID = "0123456789abcdef0123456789abcdef"
OWNER = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # a callers.Caller.key


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_617_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jobs(table: str) -> DynamoJobStore:
    return DynamoJobStore(TABLE, boto3.client("dynamodb"), ttl_seconds=3600, clock=Clock())


@pytest.fixture
def service(jobs: DynamoJobStore, monkeypatch: pytest.MonkeyPatch) -> UploadService:
    monkeypatch.setenv("UPLOADS_BUCKET", BUCKET)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return UploadService(load_settings(), boto3.client("s3"), jobs)


def policy(created: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(created["upload"]["fields"]["policy"]))
    return decoded


@pytest.mark.parametrize(
    ("filename", "content_type", "ext", "kind"),
    [
        ("codes.csv", "text/csv", "csv", "list"),
        ("codes.TXT", "text/plain; charset=utf-8", "txt", "list"),
        ("codes.csv", "text/plain", "csv", "list"),
        ("IMG_0001.JPEG", "image/jpeg", "jpg", "image"),
        ("photo.jpg", "IMAGE/JPEG", "jpg", "image"),
        ("scan.png", "image/png", "png", "image"),
        ("scan.webp", "image/webp", "webp", "image"),
        ("photo", "image/png", "png", "image"),
        ("photo.ｐｎｇ", "image/png", "png", "image"),  # full-width letters fold to ASCII
        ("../../etc/passwd.csv", "text/csv", "csv", "list"),
        ("C:\\Users\\me\\codes.csv.", "text/csv", "csv", "list"),
    ],
)
def test_choose_type(filename: str, content_type: str, ext: str, kind: str) -> None:
    assert choose_type(filename, content_type)[:2] == (ext, kind)


@pytest.mark.parametrize(
    ("filename", "content_type", "error"),
    [
        ("invoice.pdf", "application/pdf", UnsupportedType),
        ("codes.xlsx", "text/csv", UnsupportedType),
        ("photo.gif", "image/png", UnsupportedType),
        ("codes.csv", "image/png", InvalidParameter),
        ("", "text/csv", InvalidParameter),
        ("codes.csv", "", InvalidParameter),
        (None, "text/csv", InvalidParameter),
        ("codes.csv", 5, InvalidParameter),
        ("x" * 2000 + ".csv", "text/csv", InvalidParameter),
    ],
)
def test_choose_type_rejects(filename: Any, content_type: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        choose_type(filename, content_type)


def test_keys_cannot_escape_their_prefix() -> None:
    assert upload_key(UID, "jpeg") == f"uploads/{UID}.jpg"
    assert parse_upload_key(f"uploads/{UID}.csv") == (UID, "csv")
    for key in (f"uploads/{UID}/../x.csv", f"uploads/{UID}.csv/..", "results/x.json", f"{UID}.csv"):
        assert parse_upload_key(key) is None
    with pytest.raises(InvalidParameter):
        upload_key("../../x", "csv")


def test_display_filename_is_data_only() -> None:
    assert display_filename("a\x00b\u202e\u200bc.csv\n") == "abc.csv"
    assert len(display_filename("x" * 1000)) == 255


@pytest.mark.parametrize("bad", ["", "abc", UID.upper(), UID + "0", "../" + UID[3:], 5])
def test_upload_id_must_be_32_hex(bad: Any) -> None:
    with pytest.raises(InvalidParameter):
        check_upload_id(bad)


@pytest.mark.parametrize(
    "filename",
    [
        "../../../etc/passwd.csv",
        "/abs/path/codes.csv",
        "ｃｏｄｅｓ\u202e.csv",
        "..\\..\\x.csv",
        "名单.csv",
    ],
)
def test_create_builds_the_key_from_id_and_extension_only(
    service: UploadService, jobs: DynamoJobStore, filename: str
) -> None:
    created = service.create(filename, "text/csv", "https://api.example.com/v1", OWNER)
    upload_id = created["upload_id"]
    key = created["upload"]["fields"]["key"]
    assert key == f"uploads/{upload_id}.csv"
    assert created["status_url"] == f"https://api.example.com/v1/uploads/{upload_id}"
    job = jobs.get(upload_id)
    assert job is not None
    assert job.status == "pending"
    assert job.filename == display_filename(filename)


def test_presigned_post_limits_type_and_size(service: UploadService) -> None:
    image = service.create("photo.jpg", "image/jpeg", "https://x/v1", OWNER)
    assert image["upload"]["url"].startswith("https://")
    assert image["upload"]["fields"]["Content-Type"] == "image/jpeg"
    assert image["expires_in"] == 900
    conditions = policy(image)["conditions"]
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert {"bucket": BUCKET} in conditions
    listing = service.create("codes.csv", "text/csv; charset=utf-8", "https://x/v1", OWNER)
    conditions = policy(listing)["conditions"]
    assert ["content-length-range", 1, 5 * 1024 * 1024] in conditions
    assert {"Content-Type": "text/csv"} in conditions


def test_create_without_bucket_is_a_server_error(jobs: DynamoJobStore) -> None:
    service = UploadService(load_settings({}), boto3.client("s3"), jobs)
    with pytest.raises(ServiceError, match="UPLOADS_BUCKET"):
        service.create("codes.csv", "text/csv", "https://x/v1", OWNER)


def test_status_unknown_and_malformed(service: UploadService) -> None:
    with pytest.raises(NotFound):
        service.status(UID, OWNER)
    with pytest.raises(InvalidParameter):
        service.status("not-an-id", OWNER)


def test_job_lifecycle_and_status(service: UploadService, jobs: DynamoJobStore) -> None:
    jobs.create(UID, "list", "codes.csv", "text/csv", OWNER)
    pending = service.status(UID, OWNER)
    assert pending["status"] == "pending"
    assert pending["counts"]["total"] == 0
    assert "results" not in pending
    assert "results_url" not in pending

    job = jobs.begin(UID, "run-1", "list")
    assert job is not None
    assert job.status == "processing"
    assert jobs.plan(UID, "run-1", rows_total=1200, chunks_total=3) is not None
    assert jobs.chunk_done(UID, "run-1", 0) is not None
    again = jobs.chunk_done(UID, "run-1", 0)
    assert again is not None
    assert again.chunks_done == [0]
    assert not again.complete
    processing = service.status(UID, OWNER)
    assert processing["progress"] == {"chunks_done": 1, "chunks_total": 3}
    assert processing["counts"]["total"] == 1200

    # Another run of the same job is refused by the conditions.
    assert jobs.chunk_done(UID, "run-0", 1) is None
    # A retry of the same run keeps its progress.
    retried = jobs.begin(UID, "run-1", "list")
    assert retried is not None
    assert retried.chunks_done == [0]

    counts = {"total": 200, "found": 200, "not_found": 0, "invalid_gtin": 0, "error": 0}
    done = jobs.finish(
        UID,
        "run-1",
        counts=counts,
        inline=None,
        json_key="results/x.json",
        csv_key="results/x.csv",
        message=None,
    )
    assert done is not None
    assert (
        jobs.finish(
            UID,
            "run-1",
            counts=counts,
            inline=None,
            json_key="results/x.json",
            csv_key=None,
            message=None,
        )
        is None
    )
    assert jobs.begin(UID, "run-1", "list") is None  # finished runs are not restarted
    assert jobs.fail(UID, "processing_failed", "late failure") is None  # done stays done
    body = service.status(UID, OWNER)
    assert body["status"] == "done"
    assert body["counts"] == counts
    assert "results" not in body
    assert f"{BUCKET}" in body["results_url"]
    assert "results/x.json" in body["results_url"]
    assert "results/x.csv" in body["results_csv_url"]

    # The same key uploaded again is a new run from a clean slate.
    fresh = jobs.begin(UID, "run-2", "list")
    assert fresh is not None
    assert fresh.chunks_done == []
    assert fresh.counts == {}


def test_failed_and_inline_views() -> None:
    from barcode_service.uploads.jobs import Job

    failed = Job(upload_id=UID, status="failed", error={"code": "empty_upload", "detail": "empty"})
    assert status_view(failed, str)["error"] == {"code": "empty_upload", "detail": "empty"}
    rows = [{"row": 1, "code": "x", "status": "invalid_gtin"}]
    done = Job(upload_id=UID, status="done", results=rows, message="hello")
    view = status_view(done, str)
    assert view["results"] == rows
    assert view["message"] == "hello"


def test_fail_creates_a_record_for_an_unknown_job(jobs: DynamoJobStore) -> None:
    failed = jobs.fail(UID, "processing_failed", "gave up")
    assert failed is not None
    assert failed.status == "failed"
    assert failed.error == {"code": "processing_failed", "detail": "gave up"}


def test_table_outage_is_a_503(aws: None) -> None:
    from barcode_service.errors import UpstreamUnavailable

    store = DynamoJobStore("no-such-table", boto3.client("dynamodb"), ttl_seconds=60)
    with pytest.raises(UpstreamUnavailable, match="job table"):
        store.get(UID)
