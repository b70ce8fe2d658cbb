"""The uploads bucket as the worker uses it: result files and a run's work files."""

from __future__ import annotations

import json
from typing import Any


class UploadBucket:
    """Puts and gets the worker's objects (JSON compact, UTF-8 as is)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def put_json(self, key: str, value: Any) -> None:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        self.put(key, body, "application/json")

    def keys(self, prefix: str) -> list[str]:
        """The keys under `prefix` (a run's work files)."""
        found: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            found += [str(item["Key"]) for item in page.get("Contents", [])]
        return found

    def get_json(self, key: str) -> Any:
        answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        return json.loads(answer["Body"].read())
