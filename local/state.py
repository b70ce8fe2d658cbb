"""Local state kept across restarts of `make run`: table items, bucket objects, secrets.

moto keeps everything in memory, and its recorder (`/moto-api/recorder`) replays every
request ever made, which neither bounds the log nor reproduces time-dependent writes.
This keeps a snapshot instead, through the same AWS APIs the functions use: every item
of every table (a scan), every object of every bucket (with its content type and
metadata; only changed objects are fetched again) and every secret's value, written to
a directory (`.local/state/` by default, `LOCAL_STATE_DIR` overrides) when the stack
stops and every `LOCAL_STATE_SAVE_SECONDS` (60) while it runs. On start, after the
template's resources are created, the snapshot is loaded back; bucket notifications are
held off meanwhile, so restored uploads are not processed again.

What is not kept: SQS messages (a list that was being processed when the stack stopped
stays `processing` until the job gives up), and anything of a resource the template no
longer declares. Files are keyed by logical id, so a snapshot survives a new stack name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from .resources import BUCKET_TYPE, SECRET_TYPE, TABLE_TYPES, LocalResource

log = logging.getLogger("local.state")

RUNNING_FILE = "running.json"  # where a running stack's moto and resources are (scripts)
_OBJECT_HEADERS = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding")


@dataclass
class Restored:
    """What a restore loaded: counts for the banner."""

    items: int = 0
    objects: int = 0
    secrets: int = 0

    def __str__(self) -> str:
        return f"{self.items} table items, {self.objects} objects, {self.secrets} secrets"


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.chmod(mode)
    os.replace(temporary, path)


def _encode(value: Any) -> Any:
    """DynamoDB JSON with binary values as {"__b64__": ...} (JSON has no bytes)."""
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class LocalState:
    """Snapshot and restore of the local stack's resources in `directory`."""

    def __init__(
        self,
        directory: Path,
        region: str,
        client: Callable[[str], Any] | None = None,
    ) -> None:
        self.directory = directory
        self.region = region
        self._lock = threading.Lock()
        if client is None:
            # Its own session, clients made once: creating clients from the default
            # session in several threads at once (the saver, the handlers) is not safe.
            session = boto3.session.Session(region_name=region)
            clients: dict[str, Any] = {}

            def client(service: str) -> Any:
                if service not in clients:
                    clients[service] = session.client(service)
                return clients[service]

        self._client = client
        self._etags: dict[str, dict[str, str]] = {}

    # -- lifecycle ------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything kept (`--clean`)."""
        if self.directory.exists():
            shutil.rmtree(self.directory)
            log.info("local state in %s cleared", self.directory)

    def restore(self, created: Mapping[str, LocalResource]) -> Restored:
        """Load the snapshot into the freshly created resources."""
        restored = Restored()
        with self._lock:
            for logical_id, resource in created.items():
                if resource.type in TABLE_TYPES:
                    restored.items += self._restore_table(logical_id, resource.name)
                elif resource.type == BUCKET_TYPE:
                    restored.objects += self._restore_bucket(logical_id, resource.name)
                elif resource.type == SECRET_TYPE:
                    restored.secrets += self._restore_secret(logical_id, resource.name)
        return restored

    def save(self, created: Mapping[str, LocalResource]) -> None:
        """Write the snapshot (atomically per file; safe to call from several threads)."""
        with self._lock:
            for logical_id, resource in created.items():
                try:
                    if resource.type in TABLE_TYPES:
                        self._save_table(logical_id, resource.name)
                    elif resource.type == BUCKET_TYPE:
                        self._save_bucket(logical_id, resource.name)
                    elif resource.type == SECRET_TYPE:
                        self._save_secret(logical_id, resource.name)
                except Exception:
                    log.exception("could not save %s %s", resource.type, logical_id)

    # -- where a running stack is (for scripts such as import_catalog --local) --------

    def write_running(self, info: Mapping[str, Any]) -> None:
        _write_atomic(self.directory / RUNNING_FILE, json.dumps(dict(info), indent=1).encode())

    def running_pid(self) -> int | None:
        """The pid of another live stack using this directory, if any."""
        try:
            pid = int(json.loads((self.directory / RUNNING_FILE).read_text("utf-8"))["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if pid == os.getpid():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None  # left behind by a stack that was killed
        except PermissionError:
            return pid
        return pid

    def remove_running(self) -> None:
        (self.directory / RUNNING_FILE).unlink(missing_ok=True)

    def last_moto_port(self) -> int:
        try:
            data = json.loads((self.directory / "moto.json").read_text(encoding="utf-8"))
            return int(data.get("port", 0))
        except (OSError, ValueError, AttributeError):
            return 0

    def remember_moto_port(self, port: int) -> None:
        _write_atomic(self.directory / "moto.json", json.dumps({"port": port}).encode())

    # -- tables ---------------------------------------------------------------------

    def _table_file(self, logical_id: str) -> Path:
        return self.directory / "dynamodb" / f"{logical_id}.json"

    def _save_table(self, logical_id: str, name: str) -> None:
        dynamodb = self._client("dynamodb")
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            items.extend(page.get("Items", []))
        payload = json.dumps(_encode(items), ensure_ascii=False).encode("utf-8")
        _write_atomic(self._table_file(logical_id), payload)

    def _restore_table(self, logical_id: str, name: str) -> int:
        path = self._table_file(logical_id)
        if not path.is_file():
            return 0
        items = _decode(json.loads(path.read_text(encoding="utf-8")))
        dynamodb = self._client("dynamodb")
        for start in range(0, len(items), 25):
            requests: Any = {name: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
            while requests:
                answer = dynamodb.batch_write_item(RequestItems=requests)
                requests = answer.get("UnprocessedItems") or None
        return len(items)

    # -- buckets --------------------------------------------------------------------

    def _bucket_dir(self, logical_id: str) -> Path:
        return self.directory / "s3" / logical_id

    def _read_index(self, logical_id: str) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self._bucket_dir(logical_id) / "index.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_bucket(self, logical_id: str, name: str) -> None:
        s3 = self._client("s3")
        folder = self._bucket_dir(logical_id)
        index = self._read_index(logical_id)
        seen: dict[str, dict[str, Any]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for summary in page.get("Contents", []):
                key, etag = summary["Key"], summary.get("ETag", "")
                entry = index.get(key)
                file = folder / "objects" / hashlib.sha256(key.encode()).hexdigest()
                if entry and entry.get("etag") == etag and file.is_file():
                    seen[key] = entry
                    continue
                got = s3.get_object(Bucket=name, Key=key)
                _write_atomic(file, got["Body"].read())
                headers = {h: got[h] for h in _OBJECT_HEADERS if got.get(h)}
                seen[key] = {
                    "file": file.name,
                    "etag": etag,
                    "headers": headers,
                    "metadata": got.get("Metadata") or {},
                }
        for key, entry in index.items():
            if key not in seen:
                (folder / "objects" / str(entry.get("file", ""))).unlink(missing_ok=True)
        payload = json.dumps(seen, ensure_ascii=False).encode("utf-8")
        _write_atomic(folder / "index.json", payload)

    def _restore_bucket(self, logical_id: str, name: str) -> int:
        index = self._read_index(logical_id)
        if not index:
            return 0
        s3 = self._client("s3")
        folder = self._bucket_dir(logical_id)
        # Restored objects are not new uploads: no notifications while they go back.
        notifications = s3.get_bucket_notification_configuration(Bucket=name)
        notifications.pop("ResponseMetadata", None)
        if notifications:
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={})
        restored = 0
        try:
            for key, entry in index.items():
                file = folder / "objects" / str(entry.get("file", ""))
                if not file.is_file():
                    continue
                s3.put_object(
                    Bucket=name,
                    Key=key,
                    Body=file.read_bytes(),
                    Metadata=entry.get("metadata") or {},
                    **(entry.get("headers") or {}),
                )
                restored += 1
        finally:
            if notifications:
                s3.put_bucket_notification_configuration(
                    Bucket=name, NotificationConfiguration=notifications
                )
        return restored

    # -- secrets --------------------------------------------------------------------

    def _secrets_file(self) -> Path:
        return self.directory / "secrets.json"

    def _read_secrets(self) -> dict[str, str]:
        try:
            data = json.loads(self._secrets_file().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_secret(self, logical_id: str, name: str) -> None:
        value = self._client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
        kept = {**self._read_secrets(), logical_id: value}
        # The upstream credentials live here: readable by the owner only.
        _write_atomic(self._secrets_file(), json.dumps(kept).encode("utf-8"), mode=0o600)

    def _restore_secret(self, logical_id: str, name: str) -> int:
        value = self._read_secrets().get(logical_id)
        if value is None:
            return 0
        self._client("secretsmanager").put_secret_value(SecretId=name, SecretString=value)
        return 1

    def secret_value(self, logical_id: str) -> str | None:
        """The kept value of a secret, if any."""
        return self._read_secrets().get(logical_id)
