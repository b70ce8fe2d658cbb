"""EventBridge schedules, locally: a function's `Type: Schedule` event fires on its rate.

For every `Schedule` event (`rate(<n> minute[s]|hour[s]|day[s])`; cron expressions are
not emulated and are warned about), a thread invokes the function with the event
EventBridge sends (`detail-type: Scheduled Event`, or the event's `Input`) every period.
A function may also name, in its `Metadata.LocalStartEvent`, an event to get once when
the stack starts: the upload sweeper gets `{"stalled_after_seconds": 0}`, because every
job still `processing` when a stack starts was left by a stack that stopped (SQS
messages are not kept across restarts), and is resumed at once instead of after
UPLOAD_STALL_SECONDS.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .lambdas import FunctionSpec, LocalFunction
from .template import Resolver

log = logging.getLogger("local.schedule")

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True)
class ScheduleSource:
    """One `Schedule` event: which function, how often, with what."""

    function: str
    event_name: str
    seconds: float
    event: Mapping[str, Any] | None = None  # the event's Input, if it has one


def rate_seconds(expression: str) -> float | None:
    """The period of a `rate(...)` expression, None for anything else (cron)."""
    found = _RATE.fullmatch(expression.strip())
    if found is None:
        return None
    return int(found.group(1)) * _SECONDS[found.group(2).removesuffix("s")]


def schedule_sources(resolver: Resolver, specs: Mapping[str, FunctionSpec]) -> list[ScheduleSource]:
    """The enabled `Schedule` events of the functions."""
    sources: list[ScheduleSource] = []
    for spec in specs.values():
        for event_name, event in spec.events.items():
            if not isinstance(event, dict) or event.get("Type") != "Schedule":
                continue
            props = resolver.resolve(event.get("Properties") or {}) or {}
            if str(props.get("Enabled", True)).lower() == "false":
                continue
            seconds = rate_seconds(str(props.get("Schedule") or ""))
            if seconds is None:
                resolver.warn(f"{spec.logical_id}.{event_name}: only rate(...) runs locally")
                continue
            given = props.get("Input")
            sources.append(
                ScheduleSource(
                    spec.logical_id,
                    event_name,
                    seconds,
                    json.loads(given) if isinstance(given, str) else None,
                )
            )
    return sources


def start_events(resolver: Resolver, specs: Mapping[str, FunctionSpec]) -> dict[str, Any]:
    """Functions' `Metadata.LocalStartEvent`: the event each gets once at start."""
    events: dict[str, Any] = {}
    for logical_id in specs:
        metadata = resolver.template.resources[logical_id].get("Metadata") or {}
        if "LocalStartEvent" in metadata:
            events[logical_id] = resolver.resolve(metadata["LocalStartEvent"])
    return events


def scheduled_event(region: str, account_id: str, rule: str) -> dict[str, Any]:
    """What EventBridge sends a function on a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule}"],
        "detail": {},
    }


def invoke(function: LocalFunction, event: Any, what: str) -> None:
    """One invocation; a failure is logged (EventBridge retries nothing we need)."""
    try:
        answer = function.invoke(event)
    except Exception:
        log.exception("%s failed on %s", function.spec.logical_id, what)
        return
    log.info("%s on %s: %s", function.spec.logical_id, what, answer)


class ScheduleRunner(threading.Thread):
    """Invokes one function on its schedule until `stop` is set."""

    def __init__(
        self,
        source: ScheduleSource,
        function: LocalFunction,
        stop: threading.Event,
        *,
        region: str,
        account_id: str,
    ) -> None:
        super().__init__(name=f"schedule-{source.function}-{source.event_name}", daemon=True)
        self.source = source
        self.function = function
        self.stop = stop
        self.region = region
        self.account_id = account_id

    def run(self) -> None:
        while not self.stop.wait(self.source.seconds):
            event = self.source.event or scheduled_event(
                self.region, self.account_id, f"{self.source.function}-{self.source.event_name}"
            )
            invoke(self.function, dict(event), f"its schedule ({self.source.event_name})")
