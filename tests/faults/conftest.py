"""Fixtures of the fault-injection tests (defined in harness.py, shared with tests/security)."""

from tests.support.faults import _fresh_handlers, images_bucket, stale_entry, upstream

__all__ = ["_fresh_handlers", "images_bucket", "stale_entry", "upstream"]
