"""EventBridge schedules locally (local/schedule.py): the template's sweeper runs on its
rate, and once at the stack's start with its LocalStartEvent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from local.lambdas import function_specs
from local.resources import register_placeholders
from local.schedule import (
    ScheduleRunner,
    ScheduleSource,
    rate_seconds,
    schedule_sources,
    scheduled_event,
    start_events,
)
from local.template import Resolver, Template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    resolver = Resolver(Template.load(ROOT / "template.yaml"))
    register_placeholders(resolver)
    return resolver


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(5 minutes)", 300),
        ("rate(1 minute)", 60),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86_400),
        ("cron(0 12 * * ? *)", None),
        ("rate(five minutes)", None),
    ],
)
def test_rate_expressions(expression: str, seconds: float | None) -> None:
    assert rate_seconds(expression) == seconds


def test_the_template_schedules_the_sweeper_and_starts_it_once(resolver: Resolver) -> None:
    specs = function_specs(resolver)
    (source,) = schedule_sources(resolver, specs)
    assert (source.function, source.seconds, source.event) == ("UploadSweeperFunction", 300, None)
    assert start_events(resolver, specs) == {"UploadSweeperFunction": {"stalled_after_seconds": 0}}


class Counting:
    load_error = None

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.called = threading.Event()

        class Spec:
            logical_id = "Fake"

        self.spec = Spec()

    def invoke(self, event: Any) -> dict[str, int]:
        self.events.append(event)
        self.called.set()
        return {"active": 0}


def test_a_runner_invokes_on_its_period_with_a_scheduled_event() -> None:
    stop = threading.Event()
    function = Counting()
    runner = ScheduleRunner(
        ScheduleSource("Fake", "Sweep", 0.01),
        function,  # type: ignore[arg-type]
        stop,
        region="us-east-1",
        account_id="123456789012",
    )
    runner.start()
    assert function.called.wait(10)
    stop.set()
    runner.join(10)
    event = function.events[0]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/Fake-Sweep"]
    assert scheduled_event("eu-west-1", "1", "r")["region"] == "eu-west-1"
