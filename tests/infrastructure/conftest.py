"""The template, parsed as written and transformed by the SAM translator (no AWS calls)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.sam import sam_template as parse_template
from tests.support.sam import transformed_template


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as written (SAM resources, short-form intrinsics expanded)."""
    return parse_template()


@pytest.fixture(scope="session")
def cfn() -> dict[str, Any]:
    """template.yaml after the Serverless transform, as CloudFormation would run it."""
    return transformed_template()


@pytest.fixture(scope="session")
def resources(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = cfn["Resources"]
    return out
