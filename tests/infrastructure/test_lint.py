"""cfn-lint over template.yaml, with and without the serverless rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import lint_file
from cfnlint.config import ManualArgs

from scripts.template_variant import with_defaults

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _describe(matches: list[object]) -> str:
    return "\n".join(str(match) for match in matches)


def test_cfn_lint_is_clean() -> None:
    matches = lint_file(TEMPLATE, ManualArgs(regions=["us-east-1"]))
    assert not matches, _describe(matches)


def test_cfn_lint_is_clean_with_snapstart(tmp_path: Path) -> None:
    """The copy `make template` lints too: SnapStart=PublishedVersions as the default."""
    variant = tmp_path / "template.yaml"
    variant.write_text(with_defaults(TEMPLATE.read_text(), {"SnapStart": "PublishedVersions"}))
    matches = lint_file(variant, ManualArgs(regions=["us-east-1"]))
    assert not matches, _describe(matches)


def test_cfn_lint_serverless_rules_are_clean() -> None:
    pytest.importorskip("cfn_lint_serverless")
    matches = lint_file(
        TEMPLATE,
        ManualArgs(regions=["us-east-1"], append_rules=["cfn_lint_serverless.rules"]),
    )
    assert not matches, _describe(matches)


def test_serverless_rules_are_really_applied(tmp_path: Path) -> None:
    """A function without tracing trips WS1000, so a clean run above means something."""
    pytest.importorskip("cfn_lint_serverless")
    bare = tmp_path / "bare.yaml"
    bare.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.13\n"
        "      Handler: app.lambda_handler\n"
        "      CodeUri: s3://bucket/key.zip\n",
        encoding="utf-8",
    )
    matches = lint_file(
        bare, ManualArgs(regions=["us-east-1"], append_rules=["cfn_lint_serverless.rules"])
    )
    assert "WS1000" in {match.rule.id for match in matches}
