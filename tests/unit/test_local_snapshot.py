"""The local stack's SnapStart emulation: before-snapshot hooks at start, a restore before
each function's first request, and SNAPSHOT_EMULATION=0 to leave both out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.lambdas import FunctionSpec, LocalFunction
from local.stack import LocalStack, Options, snapshot_emulation


def function(tmp_path: Path, calls: list[str], name: str = "Fn") -> LocalFunction:
    code = tmp_path / name
    code.mkdir()
    (code / "app.py").write_text(
        "CALLS = []\ndef lambda_handler(event, context):\n    CALLS.append(event)\n    return 1\n"
    )
    spec = FunctionSpec(name, name, "", code, "app.lambda_handler", 3, 128, {}, {}, {})
    local = LocalFunction(spec)
    local.before_first_invoke = lambda: calls.append(f"restore {name}")
    return local


@pytest.mark.parametrize(
    ("value", "on"), [(None, True), ("1", True), ("0", False), ("false", False), ("no", False)]
)
def test_emulation_is_on_unless_turned_off(value: str | None, on: bool) -> None:
    shell = {} if value is None else {"SNAPSHOT_EMULATION": value}
    assert snapshot_emulation(shell) is on


def test_a_function_is_restored_once_before_its_first_request(tmp_path: Path) -> None:
    calls: list[str] = []
    local = function(tmp_path, calls)
    local.invoke({"n": 1})
    local.invoke({"n": 2})
    assert calls == ["restore Fn"]
    assert local.before_first_invoke is None


def test_the_stack_runs_the_hooks_and_arms_each_restore(tmp_path: Path) -> None:
    ran: list[str] = []
    stack = LocalStack(Options(), environ={})
    stack.functions = {"A": function(tmp_path, [], "A"), "B": function(tmp_path, [], "B")}
    stack._snapshot([lambda: ran.append("prepare A"), lambda: ran.append("prepare B")])
    assert ran == ["prepare A", "prepare B"]
    from barcode_service import snapshot

    for local in stack.functions.values():
        assert local.before_first_invoke == snapshot.run_after_restore
    assert "SNAPSHOT_EMULATION=0" in stack.snapshot_note


def test_a_failing_hook_is_reported_and_the_stack_serves_without_restores(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stack = LocalStack(Options(), environ={})
    stack.functions = {"A": function(tmp_path, [], "A")}

    def broken() -> Any:
        raise RuntimeError("no zint")

    stack._snapshot([broken])
    assert "before-snapshot hooks failed" in caplog.text
    assert stack.functions["A"].before_first_invoke is not None  # the test's own, untouched
    assert stack.snapshot_note == ""
