"""scripts/client_budget.py against AWS (--table) or the running local stack (--local)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

import scripts.import_catalog
from barcode_service.budgets import override_key
from barcode_service.callers import Caller
from scripts.client_budget import main
from tests.conftest import TABLE


def override(key_id: str) -> Any:
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": override_key(Caller("api_key", key_id).key)}}
    )
    return item.get("Item")


def test_sets_a_keys_budget_in_the_table(table: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--table", TABLE, "--api-key-id", "abc123", "--set", "7", "--note", "x"]) == 0
    assert "limit 7, used today 0" in capsys.readouterr().out
    assert override("abc123")["daily_lookup_budget"] == {"N": "7"}
    assert main(["--table", TABLE, "--api-key-id", "abc123", "--clear"]) == 0
    assert override("abc123") is None


def test_local_finds_the_running_stack(
    table: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        scripts.import_catalog, "local_target", lambda environ: (TABLE, boto3.client("dynamodb"))
    )
    assert main(["--local", "--api-key-id", "local-api-key", "--set", "3"]) == 0
    assert "limit 3" in capsys.readouterr().out
    assert override("local-api-key")["daily_lookup_budget"] == {"N": "3"}


def test_local_without_a_running_stack_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--local", "--api-key-id", "k"], environ={"LOCAL_STATE_DIR": str(tmp_path)})
    assert code == 2
    assert "make run" in capsys.readouterr().err
