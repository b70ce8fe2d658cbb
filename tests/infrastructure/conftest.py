"""The template, parsed as written and transformed by the SAM translator (no AWS calls)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class NoManagedPolicies:
    """ManagedPolicyLoader stand-in: the template names no managed policy, so nothing to list."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as written (SAM resources, short-form intrinsics expanded)."""
    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return parsed


@pytest.fixture(scope="session")
def cfn(sam_template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml after the Serverless transform, as CloudFormation would run it."""
    document = copy.deepcopy(sam_template)
    # Local code paths are only valid after `sam package`; the translator wants S3 URIs.
    for resource in document["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder-bucket/{props[key]}"
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # The translator logs missing feature-toggle configs at WARNING; they are expected.
    logging.disable(logging.WARNING)
    try:
        result: dict[str, Any] = transform(document, {}, NoManagedPolicies())
    finally:
        logging.disable(logging.NOTSET)
        mp.undo()
    return result


@pytest.fixture(scope="session")
def resources(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = cfn["Resources"]
    return out
