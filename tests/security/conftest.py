"""Fixtures of the security tests: the fault-injection harness drives the handlers."""

from tests.support.faults import _fresh_handlers, images_bucket, upstream

__all__ = ["_fresh_handlers", "images_bucket", "upstream"]
