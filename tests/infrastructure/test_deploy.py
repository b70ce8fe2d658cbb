"""A stack that deploys on a fresh account with the defaults and deletes cleanly."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from local.template import load_document

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_TEMPLATE = ROOT / "deploy" / "api-gateway-account.yaml"
Resources = dict[str, dict[str, Any]]


def test_the_account_wide_api_gateway_role_is_not_this_stacks(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    kinds = {resource["Type"] for resource in resources.values()}
    assert "AWS::ApiGateway::Account" not in kinds
    # Access logs need that role, so they are off unless the operator says it exists.
    assert sam_template["Parameters"]["ApiAccessLogs"]["Default"] == "false"
    account = load_document(ACCOUNT_TEMPLATE)["Resources"]
    assert account["ApiGatewayAccount"]["Type"] == "AWS::ApiGateway::Account"
    for resource in account.values():
        assert resource["DeletionPolicy"] == "Retain", "other stacks may log with it"


def test_state_is_retained_on_delete_and_replace(resources: Resources) -> None:
    for name in ("CacheTable", "UpstreamSecret"):
        assert resources[name]["DeletionPolicy"] == "Retain", name
        assert resources[name]["UpdateReplacePolicy"] == "Retain", name
    # Retained resources must not hold a fixed name, or the next stack of that name fails.
    assert "TableName" not in resources["CacheTable"]["Properties"]
    assert "Name" not in resources["UpstreamSecret"]["Properties"]


def test_buckets_are_deleted_with_the_stack_once_emptied(resources: Resources) -> None:
    """scripts/teardown.py empties them first; their names carry the stack id."""
    for name in ("ImagesBucket", "UploadsBucket"):
        assert resources[name].get("DeletionPolicy", "Delete") == "Delete", name
    name = resources["UploadsBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    assert "AWS::StackId" in str(name)


def test_defaults_reserve_nothing(sam_template: dict[str, Any]) -> None:
    parameters = sam_template["Parameters"]
    reserved = [name for name in parameters if name.endswith("ReservedConcurrency")]
    assert reserved
    for name in reserved:
        assert parameters[name]["Default"] == 0, name


def test_cloudfront_serves_images_in_every_environment(sam_template: dict[str, Any]) -> None:
    """Presigned URLs die with the signing session, so no environment relies on them."""
    assert sam_template["Parameters"]["EnableCloudFront"]["Default"] == "true"
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    for environment in ("default", "prod"):
        overrides = config[environment]["deploy"]["parameters"]["parameter_overrides"]
        assert "EnableCloudFront=false" not in overrides, environment
