"""template.yaml parsed as written and transformed by the SAM translator (no AWS calls)."""

from __future__ import annotations

import copy
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.support.language_extensions import resolve_auth

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class NoManagedPolicies:
    """ManagedPolicyLoader stand-in: the template names no managed policy, so nothing to list."""

    def load(self) -> dict[str, str]:
        return {}


def sam_template() -> dict[str, Any]:
    """template.yaml as written (SAM resources, short-form intrinsics expanded)."""
    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return parsed


@cache
def _transformed(overrides: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    document = sam_template()
    # What AWS::LanguageExtensions does first in CloudFormation (the optional authorizer).
    resolve_auth(document, dict(overrides))
    # Local code paths are only valid after `sam package`; the translator wants S3 URIs.
    for resource in document["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder-bucket/{props[key]}"
    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    # The translator logs missing feature-toggle configs at WARNING; they are expected.
    logging.disable(logging.WARNING)
    try:
        result: dict[str, Any] = transform(document, dict(overrides), NoManagedPolicies())
    finally:
        logging.disable(logging.NOTSET)
        if region is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = region
    return result


def transformed_template(**parameters: str) -> dict[str, Any]:
    """template.yaml after the Serverless transform, as CloudFormation would run it, with
    the parameter values given (the defaults for the rest).

    Transformed once per test run and set of parameters; each caller gets its own copy.
    """
    return copy.deepcopy(_transformed(tuple(sorted(parameters.items()))))
