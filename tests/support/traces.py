"""A stand-in for the Tracer's X-Ray provider that keeps what would go into segments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class RecordingSubsegment:
    def __init__(self, store: list[Any]) -> None:
        self.store = store

    def put_metadata(self, key: str, value: Any, namespace: str = "") -> None:
        self.store.append((key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self.store.append((key, value))

    def add_exception(self, exception: Exception, stack: Any = None, remote: bool = False) -> None:
        self.store.append(("exception", str(exception)))


class RecordingProvider:
    """Stands in for the X-Ray provider: keeps what the Tracer would put in segments."""

    def __init__(self) -> None:
        self.recorded: list[Any] = []

    @contextmanager
    def in_subsegment(self, name: str = "", **_: Any) -> Iterator[RecordingSubsegment]:
        self.recorded.append(("subsegment", name))
        yield RecordingSubsegment(self.recorded)
