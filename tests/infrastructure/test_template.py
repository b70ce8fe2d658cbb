"""What the transformed template must hold: throttling, keys, least privilege, safe storage."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

Resources = dict[str, dict[str, Any]]

API_FUNCTIONS = ("LookupFunction", "GenerateFunction", "UploadsFunction")
ALL_FUNCTIONS = (*API_FUNCTIONS, "UploadWorkerFunction")

ROUTES = {
    "LookupFunction": {
        ("GET", "/products/{code}"),
        ("POST", "/products/lookup"),
        ("POST", "/scans"),
        ("GET", "/health"),
        ("GET", "/openapi.json"),
    },
    "GenerateFunction": {
        ("GET", "/barcodes"),
        ("POST", "/barcodes"),
        ("POST", "/barcodes/batch"),
        ("GET", "/barcodes/types"),
    },
    "UploadsFunction": {("POST", "/uploads"), ("GET", "/uploads/{id}")},
}
GENERATE_ROUTES = ROUTES["GenerateFunction"]
LOOKUP_ROUTES = {("GET", "/products/{code}"), ("POST", "/products/lookup"), ("POST", "/scans")}

# Actions AWS only grants on "*" (no resource-level permissions). None is expected in the
# function's own statements today; the managed policies below hold the X-Ray ones.
STAR_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",
}
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}
ENV_VARS = {
    "SECRET_ID": {"Ref": "UpstreamSecret"},
    "CACHE_TABLE": {"Ref": "CacheTable"},
    "GENERATE_API_URL": {"Ref": "GenerateApiUrl"},
    "LOOKUP_API_URL": {"Ref": "LookupApiUrl"},
    "GENERATE_BACKEND": {"Ref": "GenerateBackend"},
    "IMAGES_BUCKET": {"Ref": "ImagesBucket"},
    "UPLOADS_BUCKET": {"Ref": "UploadsBucket"},
    "UPLOADS_QUEUE_URL": {"Ref": "UploadsQueue"},
    "FOUND_TTL_SECONDS": {"Ref": "FoundTtlSeconds"},
    "NOT_FOUND_TTL_SECONDS": {"Ref": "NotFoundTtlSeconds"},
    "POWERTOOLS_METRICS_NAMESPACE": "BarcodeBackend",
    "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
}


def of_type(resources: Resources, kind: str) -> Resources:
    """The resources of one CloudFormation type, by logical id."""
    return {key: value for key, value in resources.items() if value["Type"] == kind}


def default(sam_template: dict[str, Any], parameter: str) -> Any:
    return sam_template["Parameters"][parameter]["Default"]


def ref(value: Any) -> str:
    assert isinstance(value, dict), value
    assert set(value) == {"Ref"}, value
    name: str = value["Ref"]
    return name


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- API


@pytest.fixture(scope="module")
def body(resources: Resources) -> dict[str, Any]:
    api = resources["Api"]
    assert api["Type"] == "AWS::ApiGateway::RestApi"
    document: dict[str, Any] = api["Properties"]["Body"]
    return document


@pytest.fixture(scope="module")
def stage(resources: Resources) -> dict[str, Any]:
    stages = of_type(resources, "AWS::ApiGateway::Stage")
    assert list(stages) == ["Apiv1Stage"], "one stage only (no SAM 'Stage' stage)"
    properties: dict[str, Any] = stages["Apiv1Stage"]["Properties"]
    assert properties["StageName"] == "v1"
    return properties


def operations(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
        if method != "options"
    }


def test_routes_go_to_their_functions(sam_template: dict[str, Any]) -> None:
    for function, routes in ROUTES.items():
        events = sam_template["Resources"][function]["Properties"]["Events"].values()
        declared = {
            (e["Properties"]["Method"].upper(), e["Properties"]["Path"])
            for e in events
            if e["Type"] == "Api"
        }
        assert declared == routes, function
        assert all(ref(e["Properties"]["RestApiId"]) == "Api" for e in events if e["Type"] == "Api")


def test_api_key_on_every_route_but_health(body: dict[str, Any]) -> None:
    scheme = body["components"]["securitySchemes"]["api_key"]
    assert scheme == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    ops = operations(body)
    assert set(ops) == set().union(*ROUTES.values())
    for (method, path), operation in ops.items():
        requires_key = any("api_key" in item for item in operation.get("security", []))
        assert requires_key is (path != "/health"), (method, path)


def test_cors_preflight_needs_no_key(body: dict[str, Any]) -> None:
    for path, methods in body["paths"].items():
        assert "options" in methods, path
        assert not methods["options"].get("security"), path


def test_gateway_responses_keep_cors_and_retry_after(body: dict[str, Any]) -> None:
    responses = body["x-amazon-apigateway-gateway-responses"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "QUOTA_EXCEEDED"):
        headers = responses[kind]["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'", kind
        assert "Retry-After" in headers["gatewayresponse.header.Access-Control-Expose-Headers"]
    for kind in ("THROTTLED", "QUOTA_EXCEEDED"):
        assert responses[kind]["statusCode"] == "429"
        assert "gatewayresponse.header.Retry-After" in responses[kind]["responseParameters"]
        problem = json.loads(responses[kind]["responseTemplates"]["application/json"])
        assert problem["status"] == 429
        assert set(problem) >= {"type", "title", "status", "detail", "code"}


def test_binary_media_types_cover_multipart_bodies(body: dict[str, Any]) -> None:
    assert "multipart/form-data" in body["x-amazon-apigateway-binary-media-types"]
    assert "*/*" not in body["x-amazon-apigateway-binary-media-types"]


def test_stage_throttles_each_route_at_its_upstream_rate(
    sam_template: dict[str, Any], stage: dict[str, Any], body: dict[str, Any]
) -> None:
    settings = {
        (s["HttpMethod"], s["ResourcePath"]): (
            ref(s["ThrottlingRateLimit"]),
            ref(s["ThrottlingBurstLimit"]),
        )
        for s in stage["MethodSettings"]
    }
    assert settings.pop(("*", "/*")) == ("ApiRateLimit", "ApiBurstLimit")
    expected = dict.fromkeys(GENERATE_ROUTES, ("GenerateRateLimit", "GenerateBurstLimit"))
    expected |= dict.fromkeys(LOOKUP_ROUTES, ("LookupRateLimit", "LookupBurstLimit"))
    # "/~1barcodes~1types" is /barcodes/types: a leading "/", then the path with "/" as "~1".
    decoded = {
        (method, path.removeprefix("/").replace("~1", "/")): limits
        for (method, path), limits in settings.items()
    }
    assert decoded == expected
    assert set(decoded) <= set(operations(body)), "method settings name real routes"

    assert default(sam_template, "GenerateRateLimit") == 100  # the generation upstream's limit
    assert default(sam_template, "LookupRateLimit") == 20
    for rate, burst in (
        ("GenerateRateLimit", "GenerateBurstLimit"),
        ("LookupRateLimit", "LookupBurstLimit"),
        ("ApiRateLimit", "ApiBurstLimit"),
        ("UsagePlanRateLimit", "UsagePlanBurstLimit"),
    ):
        assert default(sam_template, burst) <= default(sam_template, rate), burst


def test_stage_has_json_access_logs_and_tracing(
    resources: Resources, stage: dict[str, Any]
) -> None:
    log_setting = stage["AccessLogSetting"]
    assert log_setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    record = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "0", log_setting["Format"]))
    assert {"requestId", "status", "apiKeyId", "resourcePath"} <= set(record)
    assert "RetentionInDays" in resources["ApiAccessLogGroup"]["Properties"]
    assert stage["TracingEnabled"] is True


def test_usage_plan_with_throttle_quota_and_one_key(
    resources: Resources, cfn: dict[str, Any]
) -> None:
    (plan,) = of_type(resources, "AWS::ApiGateway::UsagePlan").values()
    props = plan["Properties"]
    assert props["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Apiv1Stage"}}]
    assert ref(props["Throttle"]["RateLimit"]) == "UsagePlanRateLimit"
    assert ref(props["Throttle"]["BurstLimit"]) == "UsagePlanBurstLimit"
    assert ref(props["Quota"]["Limit"]) == "UsagePlanMonthlyQuota"
    assert props["Quota"]["Period"] == "MONTH"

    (key_id,) = of_type(resources, "AWS::ApiGateway::ApiKey")
    assert resources[key_id]["Properties"]["Enabled"] is True
    (link,) = of_type(resources, "AWS::ApiGateway::UsagePlanKey").values()
    assert link["Properties"] == {
        "KeyId": {"Ref": key_id},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": "MobileAppUsagePlan"},
    }
    assert cfn["Outputs"]["ApiKeyId"]["Value"] == {"Ref": key_id}


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
    (layer_id,) = of_type(resources, "AWS::Lambda::LayerVersion")
    props = resources[name]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "app.lambda_handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert {"Ref": layer_id} in props["Layers"]
    code_dir = sam_template["Resources"][name]["Properties"]["CodeUri"]
    assert (
        code_dir
        == "functions/"
        + {
            "LookupFunction": "lookup",
            "GenerateFunction": "generate",
            "UploadsFunction": "uploads",
            "UploadWorkerFunction": "upload_worker",
        }[name]
        + "/"
    )
    if name in API_FUNCTIONS:
        assert props["Timeout"] < 29, "API Gateway gives up after 29 s"
    reserved = props["ReservedConcurrentExecutions"]["Fn::If"]
    assert sam_template["Parameters"][ref(reserved[1])]["Type"] == "Number"
    assert reserved[2] == {"Ref": "AWS::NoValue"}
    log_groups = of_type(resources, "AWS::Logs::LogGroup").values()
    assert any(
        g["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{name}}}"}
        and "RetentionInDays" in g["Properties"]
        for g in log_groups
    )


def test_function_environment(resources: Resources) -> None:
    services = set()
    for name in ALL_FUNCTIONS:
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        for key, value in ENV_VARS.items():
            assert variables[key] == value, (name, key)
        assert variables["IMAGES_BASE_URL"]["Fn::If"][0] == "UseCloudFront"
        assert variables["IMAGES_BASE_URL"]["Fn::If"][2] == ""
        services.add(variables["POWERTOOLS_SERVICE_NAME"])
    assert len(services) == len(ALL_FUNCTIONS)


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_function_policies_are_scoped(name: str, resources: Resources) -> None:
    role = resources[f"{name}Role"]
    assert set(role["Properties"]["ManagedPolicyArns"]) <= MANAGED_POLICIES
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
        assert '"Ref": "CacheTable"' in grants
    for grants in (lookup, generate, worker):
        assert "secretsmanager:GetSecretValue" in grants
        assert '"Ref": "UpstreamSecret"' in grants
    assert "secretsmanager" not in uploads
    assert "s3:" not in lookup
    assert "sqs:" not in lookup
    assert "ImagesBucket" in generate
    assert "UploadsBucket" not in generate
    assert "UploadsBucket" in uploads
    assert "ImagesBucket" not in uploads
    assert "UploadsBucket" in worker
    assert "sqs:SendMessage" in worker


def test_worker_consumes_the_queue_with_partial_failures(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    (mapping,) = of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": "UploadWorkerFunction"}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert ref(props["BatchSize"]) == "UploadsBatchSize"
    concurrency = sam_template["Parameters"][ref(props["ScalingConfig"]["MaximumConcurrency"])]
    assert concurrency["Default"] == 5
    assert concurrency["MinValue"] == 2

    worker_timeout = resources["UploadWorkerFunction"]["Properties"]["Timeout"]
    visibility = resources["UploadsQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * worker_timeout


def test_uploads_queue_redrives_to_the_dead_letter_queue(
    resources: Resources, sam_template: dict[str, Any]
) -> None:
    redrive = resources["UploadsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["UploadsDeadLetterQueue", "Arn"]}
    assert default(sam_template, ref(redrive["maxReceiveCount"])) == 5
    assert resources["UploadsDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"


# ---------------------------------------------------------------- storage


def test_cache_table(resources: Resources) -> None:
    props = resources["CacheTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


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
        assert alarm["Condition"] == "HasAlarms"
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
    assert (
        outputs["SecretName"]["Value"] == cfn["Resources"]["UpstreamSecret"]["Properties"]["Name"]
    )
