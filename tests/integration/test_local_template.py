"""The local stack reads template.yaml: short-form tags, intrinsics, resources in moto."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from local.lambdas import function_specs, layer_paths
from local.resources import create_resources, dependency_order
from local.stack import function_environment, locally_off_conditions, upstream_secret
from local.template import Resolver, Template, load_document, references

ROOT = Path(__file__).resolve().parents[2]

FAKE_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: v1
  EnableCdn:
    Type: String
    Default: "true"
  Retries:
    Type: Number
    Default: 3
Mappings:
  Sizes:
    small: { width: "100" }
Conditions:
  UseCdn: !Equals [!Ref EnableCdn, "true"]
  NoCdn: !Not [!Condition UseCdn]
  Both: !And [!Condition UseCdn, !Equals [!Ref Stage, v1]]
Globals:
  Function:
    Handler: app.lambda_handler
    Timeout: 10
    Environment:
      Variables:
        TABLE: !Ref Table
        QUEUE_URL: !Ref Work
        QUEUE_ARN: !GetAtt Work.Arn
        SECRET_ID: !Ref Creds
        STAGE: !Ref Stage
        IMAGES_BASE_URL: !If [UseCdn, !Sub "https://${Cdn.DomainName}", ""]
Resources:
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dead.Arn
        maxReceiveCount: !Ref Retries
  Dead:
    Type: AWS::SQS::Queue
  Inbox:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "inbox-${AWS::AccountId}-${AWS::Region}"
      CorsConfiguration:
        CorsRules:
          - AllowedMethods: [POST]
            AllowedOrigins: ["*"]
            MaxAge: 600
      NotificationConfiguration:
        QueueConfigurations:
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt Work.Arn
            Filter:
              S3Key:
                Rules:
                  - Name: prefix
                    Value: uploads/
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
  Creds:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: !Sub "${AWS::StackName}/creds"
      SecretString: '{"generate": {"appkey": ""}}'
  Cdn:
    Type: AWS::CloudFront::Distribution
    Condition: UseCdn
    Properties:
      DistributionConfig:
        Origins: [{DomainName: !GetAtt Inbox.RegionalDomainName}]
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Environment:
        Variables:
          POWERTOOLS_SERVICE_NAME: worker
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: 5
"""


@pytest.fixture
def fake_template(tmp_path: Path) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(FAKE_TEMPLATE, encoding="utf-8")
    (tmp_path / "layer").mkdir()
    return Template.load(path)


def resolver_for(template: Template, **kwargs: Any) -> Resolver:
    return Resolver(template, stack_name="test-stack", region="us-east-1", **kwargs)


# -- loading ------------------------------------------------------------------------


def test_short_form_tags_become_long_form(fake_template: Template) -> None:
    resources = fake_template.resources
    assert resources["Work"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["Dead", "Arn"]
    }
    env = fake_template.globals_for("Function")["Environment"]["Variables"]
    assert env["TABLE"] == {"Ref": "Table"}
    assert env["IMAGES_BASE_URL"] == {
        "Fn::If": ["UseCdn", {"Fn::Sub": "https://${Cdn.DomainName}"}, ""]
    }
    conditions = fake_template.section("Conditions")
    assert conditions["NoCdn"] == {"Fn::Not": [{"Condition": "UseCdn"}]}


def test_the_project_template_loads() -> None:
    document = load_document(ROOT / "template.yaml")
    assert "Resources" in document
    assert Template.load(ROOT / "template.yaml").resources


def test_references_name_resources_and_parameters(fake_template: Template) -> None:
    env = fake_template.globals_for("Function")["Environment"]["Variables"]
    assert references(env["QUEUE_ARN"]) == {"Work"}
    assert references(env["IMAGES_BASE_URL"]) == {"Cdn"}
    assert references({"Fn::Sub": ["${A}-${B}", {"B": {"Ref": "C"}}]}) == {"A", "C"}
    assert references({"Fn::Sub": "${AWS::Region}-${!Literal}"}) == {"AWS::Region"}


# -- intrinsics ---------------------------------------------------------------------


def test_ref_of_parameters_uses_defaults_and_overrides(fake_template: Template) -> None:
    resolver = resolver_for(fake_template, parameter_overrides={"Stage": "v2"})
    assert resolver.resolve({"Ref": "Stage"}) == "v2"
    assert resolver.resolve({"Ref": "Retries"}) == 3
    assert resolver.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == "123456789012"


def test_sub_join_select_split_find_in_map(fake_template: Template) -> None:
    resolver = resolver_for(fake_template)
    resolver.attributes["Work"] = {"Ref": "http://q", "Arn": "arn:aws:sqs:us-east-1:1:w"}
    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}/${Work}/${Work.Arn}"}) == (
        "test-stack/http://q/arn:aws:sqs:us-east-1:1:w"
    )
    assert resolver.resolve({"Fn::Sub": ["${X}-${!Literal}", {"X": {"Ref": "Stage"}}]}) == (
        "v1-${Literal}"
    )
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-v1"
    split = {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}
    assert resolver.resolve({"Fn::Select": [1, split]}) == "test-stack"
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", "small", "width"]}) == "100"


def test_conditions_and_if(fake_template: Template) -> None:
    resolver = resolver_for(fake_template)
    assert resolver.condition("UseCdn") is True
    assert resolver.condition("NoCdn") is False
    assert resolver.condition("Both") is True
    off = resolver_for(fake_template, parameter_overrides={"EnableCdn": "false"})
    assert off.resolve({"Fn::If": ["UseCdn", "yes", "no"]}) == "no"
    assert off.is_active("Cdn") is False


def test_no_value_drops_keys_and_items(fake_template: Template) -> None:
    resolver = resolver_for(fake_template)
    value = {
        "keep": 1,
        "drop": {"Ref": "AWS::NoValue"},
        "list": ["a", {"Fn::If": ["NoCdn", "b", {"Ref": "AWS::NoValue"}]}],
    }
    assert resolver.resolve(value) == {"keep": 1, "list": ["a"]}


def test_unknown_things_resolve_to_empty_with_one_warning(
    fake_template: Template, caplog: pytest.LogCaptureFixture
) -> None:
    resolver = resolver_for(fake_template)
    with caplog.at_level(logging.WARNING, logger="local.template"):
        assert resolver.resolve({"Fn::GetAtt": ["Nowhere", "Arn"]}) == ""
        assert resolver.resolve({"Fn::GetAtt": ["Nowhere", "Arn"]}) == ""
        assert resolver.resolve({"Fn::ImportValue": "other-stack"}) == ""
        assert resolver.condition("Undefined") is False
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Nowhere.Arn" in m for m in messages) == 1
    assert any("ImportValue" in m for m in messages)


def test_cloudfront_conditions_are_off_locally(fake_template: Template) -> None:
    forced = locally_off_conditions(fake_template)
    assert forced == {"UseCdn": False}
    resolver = resolver_for(fake_template, forced_conditions=forced)
    assert resolver.resolve({"Fn::If": ["UseCdn", "cdn", "none"]}) == "none"


# -- resources in moto ---------------------------------------------------------------


def test_dependency_order_puts_referenced_resources_first(fake_template: Template) -> None:
    resolver = resolver_for(fake_template)
    order = dependency_order(resolver, ["Work", "Dead", "Inbox", "Table"])
    assert order.index("Dead") < order.index("Work") < order.index("Inbox")


def test_resources_are_created_from_the_template(aws: None, fake_template: Template) -> None:
    resolver = resolver_for(fake_template, forced_conditions=locally_off_conditions(fake_template))
    created = create_resources(resolver)
    assert set(created) == {"Work", "Dead", "Inbox", "Table", "Creds"}

    dynamodb = boto3.client("dynamodb")
    table = created["Table"].name
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}

    sqs = boto3.client("sqs")
    work_url = resolver.attributes["Work"]["Ref"]
    attributes = sqs.get_queue_attributes(QueueUrl=work_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == resolver.attributes["Dead"]["Arn"]
    assert int(redrive["maxReceiveCount"]) == 3
    assert attributes["VisibilityTimeout"] == "30"

    s3 = boto3.client("s3")
    bucket = created["Inbox"].name
    assert bucket == "inbox-123456789012-us-east-1"
    config = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert config[0]["QueueArn"] == resolver.attributes["Work"]["Arn"]
    assert config[0]["Events"] == ["s3:ObjectCreated:*"]
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["MaxAgeSeconds"] == 600

    secret = boto3.client("secretsmanager").get_secret_value(
        SecretId=resolver.attributes["Creds"]["Ref"]
    )
    assert secret["Name"] == "test-stack/creds"
    assert json.loads(secret["SecretString"]) == {"generate": {"appkey": ""}}


def test_object_created_under_the_prefix_reaches_the_queue(
    aws: None, fake_template: Template
) -> None:
    resolver = resolver_for(fake_template, forced_conditions=locally_off_conditions(fake_template))
    created = create_resources(resolver)
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    s3.put_object(Bucket=created["Inbox"].name, Key="uploads/a.csv", Body=b"code\n1\n")
    s3.put_object(Bucket=created["Inbox"].name, Key="other/b.csv", Body=b"code\n1\n")
    messages = sqs.receive_message(
        QueueUrl=resolver.attributes["Work"]["Ref"], MaxNumberOfMessages=10
    ).get("Messages", [])
    # S3 event keys are URL-encoded (moto even encodes "/"): consumers must unquote_plus.
    keys = [
        unquote_plus(record["s3"]["object"]["key"])
        for message in messages
        for record in json.loads(message["Body"]).get("Records", [])
    ]
    assert keys == ["uploads/a.csv"]


def test_function_environment_is_resolved_to_local_values(
    aws: None, fake_template: Template
) -> None:
    resolver = resolver_for(fake_template, forced_conditions=locally_off_conditions(fake_template))
    created = create_resources(resolver)
    specs = function_specs(resolver)
    env = specs["Worker"].environment
    assert env["TABLE"] == created["Table"].name
    assert env["QUEUE_URL"] == resolver.attributes["Work"]["Ref"]
    assert env["QUEUE_ARN"].startswith("arn:aws:sqs:us-east-1:")
    assert env["SECRET_ID"].startswith("arn:aws:secretsmanager:")
    assert env["IMAGES_BASE_URL"] == ""
    assert specs["Worker"].timeout == 10
    assert specs["Worker"].handler_file == fake_template.root / "functions/worker/app.py"
    assert layer_paths(resolver) == [fake_template.root / "layer"]


def test_shell_variables_override_only_values_not_tied_to_resources(
    aws: None, fake_template: Template
) -> None:
    resolver = resolver_for(fake_template, forced_conditions=locally_off_conditions(fake_template))
    create_resources(resolver)
    specs = function_specs(resolver)
    shell = {"STAGE": "from-shell", "TABLE": "not-the-local-table"}
    env = function_environment(specs, fake_template, shell)
    assert env["STAGE"] == "from-shell"
    assert env["TABLE"] == specs["Worker"].environment["TABLE"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "barcode-local"


def test_upstream_secret_comes_from_the_environment() -> None:
    assert upstream_secret({"GENERATE_APPKEY": "g", "LOOKUP_API_KEY": "k"}) == {
        "generate": {"appkey": "g"},
        "lookup": {"api_key": "k", "secret_key": ""},
        "openfoodfacts": {"user_id": "", "password": ""},
    }
    account = {"OPENFOODFACTS_USER_ID": "bot", "OPENFOODFACTS_PASSWORD": "pw"}
    assert upstream_secret(account)["openfoodfacts"] == {"user_id": "bot", "password": "pw"}


def test_every_resource_of_the_project_template_is_created(aws: None) -> None:
    """Whatever template.yaml declares today: tables, buckets, queues and secrets exist."""
    template = Template.load(ROOT / "template.yaml")
    resolver = Resolver(template, forced_conditions=locally_off_conditions(template))
    created = create_resources(resolver)
    kinds = {
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::SecretsManager::Secret",
    }
    expected = {
        logical_id
        for logical_id, resource in template.resources.items()
        if resource.get("Type") in kinds and resolver.is_active(logical_id)
    }
    assert set(created) == expected
    for spec in function_specs(resolver).values():
        for name in ("CACHE_TABLE", "IMAGES_BUCKET", "UPLOADS_BUCKET", "UPLOADS_QUEUE_URL"):
            if name in spec.environment:
                assert spec.environment[name], f"{spec.logical_id}: {name} is empty"
        if "IMAGES_BASE_URL" in spec.environment:
            assert spec.environment["IMAGES_BASE_URL"] == ""  # no CloudFront locally
