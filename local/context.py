"""The Lambda context object, for the local stack, the tests and the benchmarks.

The fields Powertools reads, and a remaining time that counts down from the
function's timeout like Lambda's does.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    """The context object Lambda passes to handlers (the fields Powertools reads)."""

    function_name: str = "local-function"
    invoked_function_arn: str = ""
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 25.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self.invoked_function_arn = (
            self.invoked_function_arn
            or f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))
