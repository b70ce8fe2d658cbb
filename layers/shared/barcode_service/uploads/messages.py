"""The worker's queue messages (the S3 object version a notification names, and
chunks) and its report of what it did with each (`WorkReport`).

Each message has one parser and one builder; the dict `identity()` is what Powertools
Idempotency hashes, so a re-delivered message is recognised as the same one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import unquote_plus

from .policy import parse_upload_key


def run_id(bucket: str, key: str, version: str, sequencer: str) -> str:
    """A short stable name for one object version's processing."""
    return hashlib.sha256(f"{bucket}\n{key}\n{version}\n{sequencer}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class ObjectVersion:
    """One S3 object version, as an ObjectCreated notification record names it."""

    bucket: str
    key: str
    size: int
    version: str  # the version id, or the ETag in an unversioned bucket
    sequencer: str

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ObjectVersion:
        """The object of one S3 notification record (keys arrive URL-encoded)."""
        s3 = record["s3"]
        obj = s3["object"]
        return cls(
            bucket=str(s3["bucket"]["name"]),
            key=unquote_plus(obj["key"]),
            size=int(obj.get("size", 0)),
            version=str(obj.get("versionId") or obj.get("eTag") or ""),
            sequencer=str(obj.get("sequencer", "")),
        )

    @property
    def run(self) -> str:
        """The run that processes this version."""
        return run_id(self.bucket, self.key, self.version, self.sequencer)

    def identity(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ChunkMessage:
    """Process chunk `chunk` of a run's list from row `start`.

    `wait` counts re-sends after a provider block (0: none), and `redrive` the sweeper's
    re-sends of a stalled run (sweeper.py), so each is a distinct message rather than a
    duplicate of one already processed (or of one a killed worker left in progress).
    """

    upload_id: str
    run: str
    chunk: int
    start: int = 0
    wait: int = 0
    redrive: int = 0

    @classmethod
    def parse(cls, message: Mapping[str, Any]) -> ChunkMessage:
        """A chunk message from its decoded body (`kind` == "chunk")."""
        return cls(
            upload_id=str(message["upload_id"]),
            run=str(message["run"]),
            chunk=int(message["chunk"]),
            start=int(message.get("start", 0)),
            wait=int(message.get("wait") or 0),
            redrive=int(message.get("redrive") or 0),
        )

    def to_body(self) -> str:
        """The SQS message body."""
        return json.dumps({"kind": "chunk", **self.identity()})

    def identity(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"upload_id": self.upload_id, "run": self.run}
        fields.update(chunk=self.chunk, start=self.start)
        if self.wait:
            fields["wait"] = self.wait
        if self.redrive:
            fields["redrive"] = self.redrive
        return fields


def send_chunks(sqs: Any, queue_url: str, messages: list[ChunkMessage], delay: int = 0) -> None:
    """Send chunk messages, ten a call; raises when SQS did not take one (the caller's
    message is then retried, and chunks already sent are deduplicated by identity)."""
    for first in range(0, len(messages), 10):
        entries: list[dict[str, Any]] = [
            {"Id": str(n), "MessageBody": message.to_body()}
            for n, message in enumerate(messages[first : first + 10])
        ]
        if delay:
            for entry in entries:
                entry["DelaySeconds"] = delay
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} chunk messages were not sent")


def jobs_named_in(body: str) -> list[tuple[str, str | None]]:
    """(upload id, run or None) of every job a message is about, as far as it can be read.

    Deliberately lenient: it runs on messages that failed, maybe because they are bad.
    """
    try:
        message = json.loads(body)
    except ValueError:
        return []
    if not isinstance(message, dict):
        return []
    if message.get("kind") == "chunk" and isinstance(message.get("upload_id"), str):
        return [(message["upload_id"], message.get("run"))]
    named: list[tuple[str, str | None]] = []
    for record in message.get("Records") or []:
        try:
            parsed = parse_upload_key(unquote_plus(record["s3"]["object"]["key"]))
        except (KeyError, TypeError):
            continue
        if parsed is not None:
            named.append((parsed[0], None))
    return named


@dataclass(frozen=True)
class WorkReport:
    """What the worker did with one object or chunk (or, with `objects`, one notification).

    Exactly the members that apply are set: `ignored` (not an upload; what it was, or a
    share with nothing left to send), `shared` (a share message's new share status),
    `skipped` (why: already processed, superseded, run is over), `failed` (the job's
    problem code), `rows` (and `chunks`) done or planned, `continued_at` (the row a new
    message continues from), `deferred_at` and `delay` (waiting for a provider block).
    Powertools Idempotency stores it (DataclassSerializer) for a re-delivered message.
    """

    upload_id: str | None = None
    chunk: int | None = None
    ignored: str | None = None
    skipped: str | None = None
    failed: str | None = None
    rows: int | None = None
    chunks: int | None = None
    continued_at: int | None = None
    deferred_at: int | None = None
    delay: int | None = None
    objects: tuple[WorkReport, ...] | None = None
    shared: str | None = None  # a share message: what became of the share (community/share.py)

    def to_dict(self) -> dict[str, Any]:
        """The members that are set (the objects' reports as dicts too)."""
        body: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            body[spec.name] = [o.to_dict() for o in value] if spec.name == "objects" else value
        return body
