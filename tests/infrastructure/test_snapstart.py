"""SnapStart in the template: the parameter, versions behind the alias, and its limits.

Translated offline with both values of the `SnapStart` parameter (and the keyless image
path on, so that every function is there): each function publishes a version behind
the alias `live`, everything that invokes a function invokes that alias, the version
changes when SnapStart is switched (a snapshot is only taken of a version published
with it on), and nothing the functions set is a setting SnapStart refuses.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from scripts.template_variant import with_defaults
from tests.infrastructure.test_rules import defaults, passes
from tests.support.sam import TEMPLATE, transformed_template

FUNCTIONS = (
    "LookupFunction",
    "GenerateFunction",
    "UploadsFunction",
    "UploadWorkerFunction",
    "ImageFunction",
)
VALUES = ("None", "PublishedVersions")
ALIAS = "live"
# AWS's "Supported features and limitations" of SnapStart (docs/cold-starts.md,
# "Limits"): Python 3.12 and later; no provisioned concurrency, no EFS, no ephemeral
# storage over 512 MB. arm64 and X-Ray active tracing are supported.
REFUSED_PROPERTIES = ("ProvisionedConcurrencyConfig", "FileSystemConfigs")
MAX_EPHEMERAL_MB = 512


def translated(snapstart: str) -> dict[str, Any]:
    resources: dict[str, Any] = transformed_template(SnapStart=snapstart, EnableImagePath="true")[
        "Resources"
    ]
    return resources


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def alias_of(function: str) -> str:
    return f"{function}Alias{ALIAS}"


def test_the_parameter_defaults_to_none(sam_template: dict[str, Any]) -> None:
    parameter = sam_template["Parameters"]["SnapStart"]
    assert sorted(parameter["AllowedValues"]) == sorted(VALUES)
    assert parameter["Default"] == "None"  # the cost model's choice: docs/cold-starts.md


@pytest.mark.parametrize("snapstart", VALUES)
def test_each_function_publishes_a_version_behind_the_alias(snapstart: str) -> None:
    resources = translated(snapstart)
    for function in FUNCTIONS:
        properties = resources[function]["Properties"]
        assert properties["SnapStart"] == {"ApplyOn": snapstart}
        alias = resources[alias_of(function)]
        assert alias["Properties"]["Name"] == ALIAS
        assert alias["Properties"]["FunctionName"] == {"Ref": function}
        version_id = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        version = resources[version_id]
        assert version["Properties"]["FunctionName"] == {"Ref": function}
        # The version a deploy replaces is deleted: its snapshot would stay billed.
        assert version["DeletionPolicy"] == "Delete"


def test_switching_snapstart_publishes_a_new_version() -> None:
    versions = {
        value: {
            lid
            for lid in of_type(translated(value), "AWS::Lambda::Version")
            if lid.startswith(FUNCTIONS)
        }
        for value in VALUES
    }
    assert len(versions["None"]) == len(FUNCTIONS)
    assert versions["None"].isdisjoint(versions["PublishedVersions"])


def test_the_sweeper_runs_without_snapstart() -> None:
    """A schedule waits for no one: no snapshot cache for it, whatever the parameter."""
    for value in VALUES:
        sweeper = translated(value)["UploadSweeperFunction"]["Properties"]
        assert sweeper.get("SnapStart", {"ApplyOn": "None"}) == {"ApplyOn": "None"}


@pytest.mark.parametrize("snapstart", VALUES)
def test_everything_invokes_the_alias(snapstart: str) -> None:
    resources = translated(snapstart)
    aliases = {alias_of(f) for f in (*FUNCTIONS, "UploadSweeperFunction")}
    # API Gateway: each integration calls the alias, and may (permissions on the alias).
    uris = re.findall(
        r"functions/\$\{(\w+)\}/invocations", str(resources["Api"]["Properties"]["Body"])
    )
    assert uris
    assert set(uris) <= aliases
    for logical_id, permission in of_type(resources, "AWS::Lambda::Permission").items():
        assert permission["Properties"]["FunctionName"]["Ref"] in aliases, logical_id
    # The queues' event sources (uploads, community shares): the worker's alias.
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    assert mappings
    for mapping in mappings:
        assert mapping["Properties"]["FunctionName"] == {"Ref": alias_of("UploadWorkerFunction")}
    # The image path: CloudFront calls the function URL, which belongs to the alias.
    (url,) = of_type(resources, "AWS::Lambda::Url").values()
    assert url["Properties"]["TargetFunctionArn"] == {"Ref": alias_of("ImageFunction")}


@pytest.mark.parametrize("snapstart", VALUES)
def test_no_function_uses_a_setting_snapstart_refuses(snapstart: str) -> None:
    resources = translated(snapstart)
    for function in FUNCTIONS:
        properties = resources[function]["Properties"]
        runtime = re.fullmatch(r"python3\.(\d+)", properties["Runtime"])
        assert runtime, properties["Runtime"]
        assert int(runtime[1]) >= 12, properties["Runtime"]
        for name in REFUSED_PROPERTIES:
            assert name not in properties, (function, name)
        storage = properties.get("EphemeralStorage", {}).get("Size", MAX_EPHEMERAL_MB)
        assert storage <= MAX_EPHEMERAL_MB
    assert not of_type(resources, "AWS::EFS::FileSystem")


@pytest.mark.parametrize("region", ["ap-southeast-6", "ap-east-2"])
def test_the_rules_refuse_snapstart_where_lambda_has_none(
    region: str, sam_template: dict[str, Any]
) -> None:
    values = defaults(sam_template) | {"AWS::Region": region}
    assert passes(sam_template["Rules"], values)
    assert not passes(sam_template["Rules"], values | {"SnapStart": "PublishedVersions"})
    elsewhere = values | {"AWS::Region": "us-east-1", "SnapStart": "PublishedVersions"}
    assert passes(sam_template["Rules"], elsewhere)


def test_the_linted_variant_differs_only_in_the_default() -> None:
    """`make template` lints a copy with SnapStart on (its linters take no overrides)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    variant = with_defaults(text, {"SnapStart": "PublishedVersions"})
    changed = [
        (old, new)
        for old, new in zip(text.splitlines(), variant.splitlines(), strict=True)
        if old != new
    ]
    assert changed == [("    Default: None", "    Default: PublishedVersions")]
    with pytest.raises(SystemExit):
        with_defaults(text, {"NoSuchParameter": "x"})
