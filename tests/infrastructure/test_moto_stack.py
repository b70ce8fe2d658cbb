"""The translated template, created as a stack in moto's CloudFormation, and torn down.

What moto's CloudFormation cannot model is stated in STUBBED and stubbed: those
resources are left out, and every Ref/GetAtt/Sub of them becomes a fixed placeholder
string (their own properties are checked from the template in test_template.py).
moto has no model of a function's alias either: what invokes the alias `live` (API
permissions, the queue's event source, the image URL) invokes the function itself in
moto, and test_snapstart.py checks the alias wiring in the translated template. The
stack is created twice, with SnapStart=None and SnapStart=PublishedVersions.
moto also does not evaluate `Rules` (test_rules.py does) and does not enforce IAM.
Everything else is really created by moto from the template, with the defaults, and
the test asserts what exists afterwards and that scripts/teardown.py deletes it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from scripts.teardown import teardown
from tests.support.sam import transformed_template
from tests.support.template_facts import ALL_FUNCTIONS

STACK = "barcode-moto"
CODE_BUCKET = "placeholder-bucket"  # tests/support/sam.py points CodeUri/ContentUri here
# Resource types moto 5's CloudFormation has no model for (it skips them, so anything
# referring to them would fail to resolve).
STUBBED = {
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudWatch::Alarm",
    "AWS::Cognito::UserPool",  # off by default (CreateUserPool=false)
    "AWS::Cognito::UserPoolClient",
    "AWS::Lambda::Url",
    "AWS::Logs::MetricFilter",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SecretsManager::Secret",
}
# Modelled, but not far enough: moto's RestApi ignores the OpenAPI `Body`, so the
# API has no methods and a deployment of it fails (the Body is checked in
# test_template.py and by the local gateway tests).
LIMITED = {"AWS::ApiGateway::Deployment"}
ALIAS = "AWS::Lambda::Alias"  # not modelled by moto: see the module docstring


def _placeholder(logical_id: str, attribute: str = "") -> str:
    return f"stub-{logical_id}-{attribute}".lower().rstrip("-").replace(".", "-")


def _unstub(value: Any, stubbed: set[str]) -> Any:
    """`value` with every reference to a stubbed resource replaced by a placeholder."""
    if isinstance(value, list):
        return [_unstub(item, stubbed) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in stubbed:
        return _placeholder(value["Ref"])
    if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in stubbed:
        return _placeholder(*value["Fn::GetAtt"])
    if set(value) == {"Fn::Sub"}:
        template = value["Fn::Sub"]
        text, variables = (template, None) if isinstance(template, str) else template

        def swap(match: re.Match[str]) -> str:
            name, _, attribute = match.group(1).partition(".")
            return _placeholder(name, attribute) if name in stubbed else match.group(0)

        text = re.sub(r"\$\{([^}!]+)\}", swap, text)
        return {"Fn::Sub": text if variables is None else [text, _unstub(variables, stubbed)]}
    return {key: _unstub(item, stubbed) for key, item in value.items()}


def _unalias(value: Any, functions: dict[str, str]) -> Any:
    """`value` with every Ref to a function's alias made a Ref to the function."""
    if isinstance(value, list):
        return [_unalias(item, functions) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in functions:
        return {"Ref": functions[value["Ref"]]}
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = re.sub(
            r"\$\{([^}!.]+)\}",
            lambda m: "${" + functions.get(m[1], m[1]) + "}",
            value["Fn::Sub"],
        )
        return {"Fn::Sub": text}
    return {key: _unalias(item, functions) for key, item in value.items()}


def stubbed_template(snapstart: str = "None") -> tuple[dict[str, Any], set[str]]:
    template = transformed_template(SnapStart=snapstart)
    aliases = {
        logical_id: resource["Properties"]["FunctionName"]["Ref"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == ALIAS
    }
    resources = _unalias(
        {lid: r for lid, r in template["Resources"].items() if lid not in aliases}, aliases
    )
    for rule in (r for r in resources.values() if r["Type"] == "AWS::Events::Rule"):
        for target in rule["Properties"]["Targets"]:  # a target is an ARN (the alias's)
            if set(target["Arn"]) == {"Ref"}:
                target["Arn"] = {"Fn::GetAtt": [target["Arn"]["Ref"], "Arn"]}
    stubbed = {lid for lid, r in resources.items() if r["Type"] in STUBBED | LIMITED}
    for logical_id in stubbed:
        del resources[logical_id]
    for resource in resources.values():
        depends = [d for d in _list(resource.get("DependsOn")) if d not in stubbed]
        resource.pop("DependsOn", None)
        if depends:
            resource["DependsOn"] = depends
    template["Resources"] = _unstub(resources, stubbed)
    template["Outputs"] = _unstub(template.get("Outputs", {}), stubbed)
    template.pop("Rules", None)
    return template, stubbed


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _code_objects(template: dict[str, Any]) -> list[str]:
    keys = []
    for resource in template["Resources"].values():
        for prop in ("Code", "Content"):
            location = resource.get("Properties", {}).get(prop)
            if isinstance(location, dict) and location.get("S3Bucket") == CODE_BUCKET:
                keys.append(location["S3Key"])
    return keys


@pytest.fixture(
    scope="module", params=["None", "PublishedVersions"], ids=lambda v: f"SnapStart={v}"
)
def stack(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The created stack: its description, resources and the template it came from."""
    from moto import mock_aws

    with mock_aws():
        template, stubbed = stubbed_template(request.param)
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=CODE_BUCKET)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
        for key in _code_objects(template):
            s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=archive.getvalue())
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(template),
            Capabilities=["CAPABILITY_IAM"],
        )
        (described,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
        summaries = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        yield {
            "stack": described,
            # moto 5 lists one extra summary with empty ids; it is no resource of ours.
            "resources": {r["LogicalResourceId"]: r for r in summaries if r["LogicalResourceId"]},
            "template": template,
            "stubbed": stubbed,
        }


def test_the_stack_is_created_with_the_defaults(stack: dict[str, Any]) -> None:
    assert stack["stack"]["StackStatus"] == "CREATE_COMPLETE", stack["stack"].get(
        "StackStatusReason"
    )
    # With the defaults: no access logs (no account-wide role needed), no alarms and no
    # keyless image path, no user pool.
    off = {"HasAccessLogs", "HasAlarms", "HasThrottleAlarm", "WantImagePath", "ServeImagePath"}
    off |= {"CreateCognitoUserPool"}
    expected = {
        logical_id
        for logical_id, resource in stack["template"]["Resources"].items()
        if resource.get("Condition") not in off
    }
    assert "ApiAccessLogGroup" not in expected
    assert set(stack["resources"]) == expected
    for summary in stack["resources"].values():
        assert summary["ResourceStatus"] == "CREATE_COMPLETE", summary


def test_the_stubbed_parts_are_only_what_moto_cannot_model(stack: dict[str, Any]) -> None:
    from moto.cloudformation.parsing import get_model_map

    modelled = set(get_model_map())
    assert STUBBED.isdisjoint(modelled), "moto models it now: stop stubbing it"
    assert ALIAS not in modelled, "moto models aliases now: stop replacing them"
    kinds = {r["Type"] for r in transformed_template()["Resources"].values()}
    assert kinds - STUBBED - {ALIAS} <= modelled
    assert modelled >= LIMITED


def test_what_was_created(stack: dict[str, Any]) -> None:
    region = "us-east-1"
    physical = {lid: r["PhysicalResourceId"] for lid, r in stack["resources"].items()}
    table = boto3.client("dynamodb", region_name=region).describe_table(
        TableName=physical["CacheTable"]
    )["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = sorted(index["IndexName"] for index in table["GlobalSecondaryIndexes"])
    assert indexes == ["ActiveJobs", "CommunityByState"]

    functions = boto3.client("lambda", region_name=region)
    iam = boto3.client("iam", region_name=region)
    for name in ALL_FUNCTIONS:
        config = functions.get_function_configuration(FunctionName=physical[name])
        assert config["Runtime"] == "python3.13"
        # (moto's CloudFormation drops Architectures; test_template.py checks arm64.)
        role_name = config["Role"].rsplit("/", 1)[-1]
        assert role_name == physical[f"{name}Role"]
        assert not iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        assert policy_name == "runtime"
        # A published version behind the alias (the alias itself: test_snapstart.py).
        versions = functions.list_versions_by_function(FunctionName=physical[name])["Versions"]
        assert [v["Version"] for v in versions if v["Version"] != "$LATEST"] == ["1"]
        # Nothing reserved by default: deploys on an account whose limit is 10.
        concurrency = functions.get_function_concurrency(FunctionName=physical[name])
        assert concurrency.get("ReservedConcurrentExecutions", 0) == 0  # moto says 0 for none

    # The worker reads the uploads queue and the community share queue.
    mappings = functions.list_event_source_mappings(FunctionName=physical["UploadWorkerFunction"])[
        "EventSourceMappings"
    ]
    sqs = boto3.client("sqs", region_name=region)
    queue_arns = {
        sqs.get_queue_attributes(QueueUrl=physical[queue], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        for queue in ("UploadsQueue", "CommunityShareQueue")
    }
    assert {mapping["EventSourceArn"] for mapping in mappings} == queue_arns

    logs = boto3.client("logs", region_name=region)
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    for suffix in ("lookup", "generate", "uploads", "upload-worker", "upload-sweeper"):
        assert groups[f"/aws/lambda/{STACK}-{suffix}"]["retentionInDays"] == 30

    buckets = {b["Name"] for b in boto3.client("s3", region_name=region).list_buckets()["Buckets"]}
    assert {physical["ImagesBucket"], physical["UploadsBucket"]} <= buckets

    # The sweeper's schedule: an EventBridge rule every 5 minutes that targets it.
    events = boto3.client("events", region_name=region)
    (rule,) = [r for r in events.list_rules()["Rules"] if r.get("ScheduleExpression")]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].endswith(f":function:{physical['UploadSweeperFunction']}")


def test_teardown_empties_the_buckets_and_keeps_table_and_secret(stack: dict[str, Any]) -> None:
    region = "us-east-1"
    physical = {lid: r["PhysicalResourceId"] for lid, r in stack["resources"].items()}
    s3 = boto3.client("s3", region_name=region)
    s3.put_object(Bucket=physical["UploadsBucket"], Key="results/x.json", Body=b"{}")
    s3.put_object(Bucket=physical["ImagesBucket"], Key="barcodes/x.png", Body=b"png")
    lines: list[str] = []

    kept = teardown(STACK, lambda service: boto3.client(service, region_name=region), lines.append)

    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert physical["UploadsBucket"] not in buckets
    assert physical["ImagesBucket"] not in buckets
    assert "emptying" in lines[0]
    # DeletionPolicy: Retain keeps the table (moto honours it) and says how to drop it.
    assert kept["CacheTableName"] == physical["CacheTable"]
    tables = boto3.client("dynamodb", region_name=region).list_tables()["TableNames"]
    assert physical["CacheTable"] in tables
    assert any("delete-table" in line for line in lines)
