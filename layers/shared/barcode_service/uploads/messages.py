"""The worker's queue messages: the S3 object version a notification names, and chunks.

Each has one parser and one builder; the dict `identity()` is what Powertools
Idempotency hashes, so a re-delivered message is recognised as the same one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
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

    `wait` counts re-sends after a provider block (0: none), so each is a distinct
    message rather than a duplicate of one already processed.
    """

    upload_id: str
    run: str
    chunk: int
    start: int = 0
    wait: int = 0

    @classmethod
    def parse(cls, message: Mapping[str, Any]) -> ChunkMessage:
        """A chunk message from its decoded body (`kind` == "chunk")."""
        return cls(
            upload_id=str(message["upload_id"]),
            run=str(message["run"]),
            chunk=int(message["chunk"]),
            start=int(message.get("start", 0)),
            wait=int(message.get("wait") or 0),
        )

    def to_body(self) -> str:
        """The SQS message body."""
        return json.dumps({"kind": "chunk", **self.identity()})

    def identity(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"upload_id": self.upload_id, "run": self.run}
        fields.update(chunk=self.chunk, start=self.start)
        if self.wait:
            fields["wait"] = self.wait
        return fields


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
