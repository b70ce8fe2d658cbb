"""The worker's queue messages: S3 object notifications and chunk messages."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import unquote_plus

from .policy import parse_upload_key


def run_id(bucket: str, key: str, version: str, sequencer: str) -> str:
    """A short stable name for one object version's processing."""
    return hashlib.sha256(f"{bucket}\n{key}\n{version}\n{sequencer}".encode()).hexdigest()[:20]


def jobs_named_in(body: str) -> list[tuple[str, str | None]]:
    """(upload id, run or None) of every job a message is about, as far as it can be read."""
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
