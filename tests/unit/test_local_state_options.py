"""How `make run` is told to keep or forget its state, and how kept credentials merge."""

from __future__ import annotations

import json
from pathlib import Path

from local.stack import merge_secret, parse_args, upstream_secret


def test_state_is_kept_by_default_and_clean_is_a_flag_or_an_env_var(tmp_path: Path) -> None:
    assert parse_args([], {}).clean is False
    assert parse_args([], {}).state_dir is None  # .local/state next to the template
    assert parse_args(["--clean"], {}).clean is True
    assert parse_args([], {"LOCAL_CLEAN": "1"}).clean is True
    assert parse_args([], {"LOCAL_STATE_DIR": str(tmp_path)}).state_dir == tmp_path.resolve()
    assert parse_args([], {"LOCAL_STATE_SAVE_SECONDS": "5"}).save_seconds == 5


def test_kept_credentials_stay_unless_the_shell_sets_them() -> None:
    kept = json.dumps(upstream_secret({"GENERATE_APPKEY": "old", "LOOKUP_API_KEY": "lk"}))
    merged = merge_secret(kept, upstream_secret({"GENERATE_APPKEY": "new"}))
    assert merged["generate"]["appkey"] == "new"
    assert merged["lookup"]["api_key"] == "lk"
    assert merged["lookup"]["secret_key"] == ""


def test_nothing_kept_or_garbage_kept_gives_the_shell_document() -> None:
    shell = upstream_secret({"LOOKUP_API_KEY": "k"})
    assert merge_secret(None, shell) == shell
    assert merge_secret("not json", shell) == shell
    assert merge_secret("[1]", shell) == shell
