"""The worker's typed messages and result rows: one builder and one parser each."""

from __future__ import annotations

import json

from barcode_service.errors import InvalidGtin
from barcode_service.lookup_outcome import LookupOutcome
from barcode_service.rows import CodeRow
from barcode_service.uploads.messages import ChunkMessage, ObjectVersion, jobs_named_in, run_id
from barcode_service.uploads.results import empty_counts, tally
from tests.conftest import load_event

UID = "0123456789abcdef0123456789abcdef"


def test_chunk_message_round_trip() -> None:
    first = ChunkMessage(UID, "run-1", 3)
    body = json.loads(first.to_body())
    assert body == {"kind": "chunk", "upload_id": UID, "run": "run-1", "chunk": 3, "start": 0}
    assert ChunkMessage.parse(body) == first
    waited = ChunkMessage(UID, "run-1", 3, start=7, wait=2)
    assert json.loads(waited.to_body())["wait"] == 2
    assert ChunkMessage.parse(json.loads(waited.to_body())) == waited
    assert ChunkMessage(**waited.identity()) == waited
    assert "wait" not in first.identity()
    assert jobs_named_in(waited.to_body()) == [(UID, "run-1")]


def test_object_version_from_a_notification_record() -> None:
    notification = json.loads(load_event("sqs_s3_upload.json")["Records"][1]["body"])
    record = notification["Records"][0]
    version = ObjectVersion.from_record(record)
    assert version.key.startswith("uploads/")
    assert version.version
    assert ObjectVersion(**version.identity()) == version
    assert version.run == run_id(version.bucket, version.key, version.version, version.sequencer)
    assert len(version.run) == 20


def test_result_rows_keep_their_place_and_answer() -> None:
    invalid = CodeRow.of(LookupOutcome(InvalidGtin("bad")), code="123", row=4, line=5)
    assert invalid.to_dict() == {
        "row": 4,
        "line": 5,
        "code": "123",
        "status": "invalid_gtin",
        "error": InvalidGtin("bad").to_problem(),
    }
    assert CodeRow.from_dict(invalid.to_dict()) == invalid
    photo = CodeRow.of(LookupOutcome(InvalidGtin("x")), code="t", row=1, format="QRCode", text="t")
    assert list(photo.to_dict()) == ["row", "code", "format", "text", "status", "error"]
    assert tally([invalid, photo]) == {**empty_counts(), "total": 2, "invalid_gtin": 2}
