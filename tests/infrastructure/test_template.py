"""The transformed template's functions, roles, queues, storage, alarms and outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.template_facts import (
    ALL_FUNCTIONS,
    API_FUNCTIONS,
    ENV_VARS,
    STAR_RESOURCE_ACTIONS,
    Resources,
    as_list,
    default,
    of_type,
    ref,
)

# ---------------------------------------------------------------- functions


def test_shared_layer_builds_for_python313_arm64(sam_template: dict[str, Any]) -> None:
    # Built by layers/shared/Makefile, without the runtime boto3/botocore (test_layer.py).
    layer = sam_template["Resources"]["SharedLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (Path(__file__).resolve().parents[2] / "layers/shared/Makefile").read_text()
    assert "--python-version 3.13" in makefile
    assert "--platform manylinux2014_aarch64" in makefile


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_function_runtime_layer_and_limits(
    name: str, resources: Resources, sam_template: dict[str, Any]
) -> None:
    layers = of_type(resources, "AWS::Lambda::LayerVersion")
    (layer_id,) = [id_ for id_ in layers if id_.startswith("SharedLayer")]
    (print_id,) = [id_ for id_ in layers if id_.startswith("PrintLayer")]
    props = resources[name]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "app.lambda_handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert {"Ref": layer_id} in props["Layers"]
    # reportlab (the print layer) only where something prints.
    prints = name in ("GenerateFunction", "UploadWorkerFunction")
    assert ({"Ref": print_id} in props["Layers"]) == prints, name
    code_dir = sam_template["Resources"][name]["Properties"]["CodeUri"]
    assert (
        code_dir
        == "functions/"
        + {
            "LookupFunction": "lookup",
            "GenerateFunction": "generate",
            "UploadsFunction": "uploads",
            "UploadWorkerFunction": "upload_worker",
            "UploadSweeperFunction": "upload_sweeper",
        }[name]
        + "/"
    )
    if name in API_FUNCTIONS:
        assert props["Timeout"] < 29, "API Gateway gives up after 29 s"
        reserved = props["ReservedConcurrentExecutions"]["Fn::If"]
        assert sam_template["Parameters"][ref(reserved[1])]["Type"] == "Number"
        assert reserved[2] == {"Ref": "AWS::NoValue"}
    else:
        # The SQS event source's MaximumConcurrency caps the worker; nothing reserved.
        assert "ReservedConcurrentExecutions" not in props
    # Its own log group, created before the function (named by the stack, not the
    # function), so no first invocation makes one that the stack then fails to create.
    log_group = resources[ref(props["LoggingConfig"]["LogGroup"])]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in log_group["Properties"]
    assert name not in json.dumps(log_group["Properties"]["LogGroupName"])


def test_function_environment(resources: Resources, sam_template: dict[str, Any]) -> None:
    services = set()
    for name in ALL_FUNCTIONS:
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        for key, value in ENV_VARS.items():
            assert variables[key] == value, (name, key)
        services.add(variables["POWERTOOLS_SERVICE_NAME"])
        # Only Generate hands out image URLs; elsewhere it would make the function wait
        # for the CloudFront distribution (minutes) on every deploy.
        assert ("IMAGES_BASE_URL" in variables) is (name == "GenerateFunction"), name
    assert len(services) == len(ALL_FUNCTIONS)
    images = resources["GenerateFunction"]["Properties"]["Environment"]["Variables"]
    assert images["IMAGES_BASE_URL"]["Fn::If"][0] == "UseCloudFront"
    assert images["IMAGES_BASE_URL"]["Fn::If"][2] == ""
    assert "IMAGES_BASE_URL" not in sam_template["Globals"]["Function"]["Environment"]["Variables"]


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_function_policies_are_scoped(name: str, resources: Resources) -> None:
    assert resources[name]["Properties"]["Role"] == {"Fn::GetAtt": [f"{name}Role", "Arn"]}
    role = resources[f"{name}Role"]
    assert "ManagedPolicyArns" not in role["Properties"], "managed policies grant on *"
    statements = _statements(role)
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        for action in actions:
            assert "*" not in action, (name, action)
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                assert set(actions) <= STAR_RESOURCE_ACTIONS, (name, actions)
            else:
                assert isinstance(resource, dict), (name, resource)


def _grants(resources: Resources, name: str) -> str:
    return json.dumps(_statements(resources[f"{name}Role"]))


def test_each_function_reaches_only_what_it_uses(resources: Resources) -> None:
    lookup = _grants(resources, "LookupFunction")
    generate = _grants(resources, "GenerateFunction")
    uploads = _grants(resources, "UploadsFunction")
    worker = _grants(resources, "UploadWorkerFunction")
    for grants in (lookup, generate, uploads, worker):
        assert '"CacheTable", "Arn"' in grants
    for grants in (lookup, generate, worker):
        assert "secretsmanager:GetSecretValue" in grants
        assert '"Ref": "UpstreamSecret"' in grants
    assert "secretsmanager" not in uploads
    assert "s3:" not in lookup
    # The lookup function queues community shares to retry, on their queue only.
    assert '"UploadsQueue"' not in lookup
    assert '"CommunityShareQueue"' in lookup
    assert "ImagesBucket" in generate
    assert "UploadsBucket" not in generate
    assert "UploadsBucket" in uploads
    assert "ImagesBucket" not in uploads
    assert "UploadsBucket" in worker
    assert "sqs:SendMessage" in worker


def test_the_sweeper_runs_on_a_schedule(resources: Resources, sam_template: dict[str, Any]) -> None:
    (rule,) = of_type(resources, "AWS::Events::Rule").values()
    props = rule["Properties"]
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    (target,) = props["Targets"]
    # The alias `live` (AutoPublishAlias), as for every function.
    assert target["Arn"] == {"Ref": "UploadSweeperFunctionAliaslive"}
    variables = resources["UploadSweeperFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["UPLOAD_STALL_SECONDS"] == {"Ref": "UploadStallSeconds"}
    stall = sam_template["Parameters"]["UploadStallSeconds"]
    # Longer than a healthy run's longest quiet time: a provider block's 15-minute re-send.
    assert stall["Default"] > 900
    sweeper = _grants(resources, "UploadSweeperFunction")
    assert "secretsmanager" not in sweeper
    assert "ImagesBucket" not in sweeper


def test_worker_consumes_the_queue_with_partial_failures(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    (mapping,) = (
        m
        for m in mappings
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    )
    props = mapping["Properties"]
    # The alias `live` (AutoPublishAlias): the version the last deploy published.
    assert props["FunctionName"] == {"Ref": "UploadWorkerFunctionAliaslive"}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert ref(props["BatchSize"]) == "UploadsBatchSize"
    concurrency = sam_template["Parameters"][ref(props["ScalingConfig"]["MaximumConcurrency"])]
    assert concurrency["Default"] == 5
    assert min(concurrency["AllowedValues"]) == 2  # the AWS minimum

    worker_timeout = resources["UploadWorkerFunction"]["Properties"]["Timeout"]
    visibility = resources["UploadsQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * worker_timeout


def test_the_worker_retries_community_shares_from_their_own_queue(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    (mapping,) = (
        m
        for m in mappings
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["CommunityShareQueue", "Arn"]}
    )
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": "UploadWorkerFunctionAliaslive"}  # its published alias
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 1
    queue = resources["CommunityShareQueue"]["Properties"]
    assert (
        queue["VisibilityTimeout"] >= 6 * resources["UploadWorkerFunction"]["Properties"]["Timeout"]
    )
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["CommunityShareDeadLetterQueue", "Arn"]
    }
    assert ref(redrive["maxReceiveCount"]) == "CommunityShareMaxReceiveCount"
    # The worker knows the same count: its last delivery records the share as failed.
    environment = sam_template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["COMMUNITY_SHARE_MAX_RECEIVE_COUNT"] == redrive["maxReceiveCount"]


def test_uploads_queue_redrives_to_the_dead_letter_queue(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    redrive = resources["UploadsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["UploadsDeadLetterQueue", "Arn"]}
    assert default(sam_template, ref(redrive["maxReceiveCount"])) == 5
    assert resources["UploadsDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"


# ---------------------------------------------------------------- storage


def table_entries(entries: list[Any], all_indexes: bool) -> list[Any]:
    """The cache table's list with its AllTableIndexes choices made, AWS::NoValue dropped."""
    chosen = []
    for entry in entries:
        value = entry
        if isinstance(entry, dict) and "Fn::If" in entry:
            condition, then, otherwise = entry["Fn::If"]
            assert condition == "AllTableIndexes"
            value = then if all_indexes else otherwise
        if value != {"Ref": "AWS::NoValue"}:
            chosen.append(value)
    return chosen


def test_cache_table(resources: Resources, cfn: dict[str, Any]) -> None:
    props = resources["CacheTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table_entries(props["AttributeDefinitions"], all_indexes=True) == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "active_job", "AttributeType": "S"},
        # The operators' index of community records.
        {"AttributeName": "community_state", "AttributeType": "S"},
        {"AttributeName": "community_updated", "AttributeType": "N"},
    ]
    # Two sparse indexes: only the items that carry their keys are in them.
    jobs, community = table_entries(props["GlobalSecondaryIndexes"], all_indexes=True)
    # The sweeper's: only jobs being processed, their updated_at with them.
    assert jobs["IndexName"] == "ActiveJobs"
    assert jobs["KeySchema"] == [{"AttributeName": "active_job", "KeyType": "HASH"}]
    assert jobs["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["updated_at"]}
    assert community["IndexName"] == "CommunityByState"
    assert community["KeySchema"] == [
        {"AttributeName": "community_state", "KeyType": "HASH"},
        {"AttributeName": "community_updated", "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    indexes_condition = {"Fn::Equals": [{"Ref": "CacheTableIndexes"}, "All"]}
    assert cfn["Conditions"]["AllTableIndexes"] == indexes_condition


def test_a_stack_from_before_the_indexes_gets_one_index_per_deploy(
    resources: Resources, cfn: dict[str, Any]
) -> None:
    """DynamoDB creates one index per table update: ActiveJobsOnly is the first of two."""
    assert cfn["Parameters"]["CacheTableIndexes"]["Default"] == "All"
    props = resources["CacheTable"]["Properties"]
    (jobs,) = table_entries(props["GlobalSecondaryIndexes"], all_indexes=False)
    assert jobs["IndexName"] == "ActiveJobs"
    # Every attribute defined is a key of the table or of an index that exists.
    assert table_entries(props["AttributeDefinitions"], all_indexes=False) == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "active_job", "AttributeType": "S"},
    ]


def test_secret_placeholder_has_the_contract_shape(resources: Resources) -> None:
    props = resources["UpstreamSecret"]["Properties"]
    assert json.loads(props["SecretString"]) == {
        "generate": {"appkey": ""},
        "lookup": {"api_key": "", "secret_key": ""},
    }


@pytest.mark.parametrize("bucket", ["ImagesBucket", "UploadsBucket"])
def test_buckets_are_private_encrypted_and_tls_only(bucket: str, resources: Resources) -> None:
    props = resources[bucket]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (policy,) = (
        p
        for p in of_type(resources, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    )
    deny = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if isinstance(s, dict) and s.get("Effect") == "Deny"
    ]
    assert any(
        s["Principal"] == "*"
        and s["Action"] == "s3:*"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and {"Fn::Sub": f"${{{bucket}.Arn}}/*"} in s["Resource"]
        and {"Fn::GetAtt": [bucket, "Arn"]} in s["Resource"]
        for s in deny
    )


def test_uploads_bucket_expires_and_notifies_the_queue(resources: Resources) -> None:
    bucket = resources["UploadsBucket"]
    rules = {r.get("Prefix"): r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    for prefix in ("uploads/", "results/"):
        assert rules[prefix]["Status"] == "Enabled"
        assert "ExpirationInDays" in rules[prefix]
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Queue"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]

    # No cycle: the queue policy names the bucket by its known name, and the bucket waits for it.
    assert bucket["DependsOn"] == "UploadsQueuePolicy"
    (statement,) = resources["UploadsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    source_arn = statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    bucket_name = bucket["Properties"]["BucketName"]["Fn::Sub"]
    assert source_arn[0] == "arn:${AWS::Partition}:s3:::" + bucket_name[0]
    assert source_arn[1] == bucket_name[1]


def test_images_behind_cloudfront_with_origin_access_control(resources: Resources) -> None:
    distribution = resources["ImagesDistribution"]
    assert distribution["Condition"] == "UseCloudFront"
    assert resources["ImagesOriginAccessControl"]["Condition"] == "UseCloudFront"
    config = distribution["Properties"]["DistributionConfig"]
    # The second origin is the keyless image path's, only with EnableImagePath=true
    # (tests/infrastructure/test_image_path.py).
    origin, image_origin = config["Origins"]
    assert image_origin["Fn::If"][0] == "ServeImagePath"
    assert origin["DomainName"] == {"Fn::GetAtt": ["ImagesBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ImagesOriginAccessControl", "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    statements = resources["ImagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (conditional,) = [s for s in statements if "Fn::If" in s]
    condition, allow, otherwise = conditional["Fn::If"]
    assert condition == "UseCloudFront"
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert otherwise == {"Ref": "AWS::NoValue"}


# ---------------------------------------------------------------- alarms and outputs


def test_alarms_are_optional_and_cover_the_failure_modes(resources: Resources) -> None:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    assert alarms
    metrics: set[str] = set()
    for alarm in alarms.values():
        # The 429 alarm counts access-log lines, so it also needs the access logs.
        assert alarm["Condition"] in ("HasAlarms", "HasThrottleAlarm")
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
        props = alarm["Properties"]
        if "MetricName" in props:
            metrics.add(f"{props['Namespace']}/{props['MetricName']}")
        for query in props.get("Metrics", []):
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                metrics.add(f"{metric['Namespace']}/{metric['MetricName']}")
    assert metrics >= {
        "AWS/ApiGateway/5XXError",
        "BarcodeBackend/UpstreamError",
        "BarcodeBackend/UpstreamQuotaExhausted",
        "AWS/SQS/ApproximateNumberOfMessagesVisible",
        "AWS/Lambda/Throttles",
        "BarcodeBackend/ApiThrottled",
    }
    (metric_filter,) = of_type(resources, "AWS::Logs::MetricFilter").values()
    assert "429" in metric_filter["Properties"]["FilterPattern"]


def test_outputs(cfn: dict[str, Any]) -> None:
    outputs = cfn["Outputs"]
    assert {
        "ApiUrl",
        "ApiKeyId",
        "SecretName",
        "ImagesBucketName",
        "UploadsBucketName",
        "ImagesBaseUrl",
        "CacheTableName",
    } <= set(outputs)
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/v1"
    }
    # The secret has no fixed name (a retained one must not block a new stack): its ARN.
    assert outputs["SecretName"]["Value"] == {"Ref": "UpstreamSecret"}
    assert "Name" not in cfn["Resources"]["UpstreamSecret"]["Properties"]
