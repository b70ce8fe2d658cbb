"""Create the template's tables, buckets, queues and secrets in moto, from the template.

Nothing here lists the project's resources: every `AWS::DynamoDB::Table`,
`AWS::S3::Bucket`, `AWS::SQS::Queue` and `AWS::SecretsManager::Secret` the template
declares (and whose Condition holds) is created with the properties that matter locally,
in dependency order so that a dead-letter queue exists before the queue that names it
and a queue before the bucket that notifies it. What Ref and GetAtt return for each is
recorded in the resolver, so function environments resolve to the local names.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from .template import Resolver, references

log = logging.getLogger("local.resources")

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
BUCKET_TYPE = "AWS::S3::Bucket"
QUEUE_TYPE = "AWS::SQS::Queue"
SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a type name, not a secret)
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
API_TYPES = ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
IMPLICIT_API = "ServerlessRestApi"  # SAM's logical id for the API of events without RestApiId
LOCAL_API_ID = "localapi01"

# CloudFormation SQS property -> SetQueueAttributes name (all values are strings there).
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
_TABLE_PASSTHROUGH = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "TableClass",
)


@dataclass(frozen=True)
class LocalResource:
    """One resource created in moto: its logical id, type and local physical name."""

    logical_id: str
    type: str
    name: str


def physical_name(resolver: Resolver, logical_id: str, kind: str) -> str:
    """The name CloudFormation would generate when the template gives none (no suffix)."""
    name = f"{resolver.stack_name}-{logical_id}"
    if kind == BUCKET_TYPE:
        # Bucket names are lower case, 3-63 characters, no underscores.
        name = name.lower().replace("_", "-")[:63].strip("-")
    return name[:80]


def dependency_order(resolver: Resolver, logical_ids: list[str]) -> list[str]:
    """`logical_ids` sorted so that referenced resources come first (template order otherwise)."""
    resources = resolver.template.resources
    wanted = set(logical_ids)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in ordered or logical_id in visiting:
            return  # done, or a cycle: CloudFormation would reject it, keep going
        visiting.add(logical_id)
        resource = resources[logical_id]
        depends = resource.get("DependsOn", [])
        needed = references(resource.get("Properties", {})) | set(
            [depends] if isinstance(depends, str) else depends
        )
        for other in sorted(needed & wanted, key=logical_ids.index):
            visit(other)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in logical_ids:
        visit(logical_id)
    return ordered


def register_placeholders(resolver: Resolver) -> None:
    """Ref/GetAtt values for resources that are not emulated but that templates name.

    Functions, APIs and layers are not created in moto (the runner calls handlers
    directly), yet their names and ARNs appear in environment variables and policies.
    """
    region, account = resolver.region, resolver.account_id
    for logical_id, resource in resolver.template.resources.items():
        kind = resource.get("Type", "")
        props = resource.get("Properties") or {}
        if kind in FUNCTION_TYPES:
            name = str(resolver.resolve(props.get("FunctionName")) or "") or physical_name(
                resolver, logical_id, kind
            )
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
            resolver.attributes[logical_id] = {"Ref": name, "Arn": arn}
        elif kind in API_TYPES:
            resolver.attributes[logical_id] = {"Ref": LOCAL_API_ID, "RootResourceId": "root"}
        elif kind in LAYER_TYPES:
            arn = f"arn:aws:lambda:{region}:{account}:layer:{logical_id}:1"
            resolver.attributes[logical_id] = {"Ref": arn, "Arn": arn}
    resolver.attributes.setdefault(IMPLICIT_API, {"Ref": LOCAL_API_ID, "RootResourceId": "root"})


ClientFactory = Callable[[str], Any]


def _default_client(resolver: Resolver) -> ClientFactory:
    def make(service: str) -> Any:
        return boto3.client(service, region_name=resolver.region)

    return make


def create_resources(
    resolver: Resolver, client: ClientFactory | None = None
) -> dict[str, LocalResource]:
    """Create every supported, active resource of the template; return them by logical id."""
    make_client = client or _default_client(resolver)
    register_placeholders(resolver)
    supported = (*TABLE_TYPES, BUCKET_TYPE, QUEUE_TYPE, SECRET_TYPE)
    candidates = [
        logical_id
        for logical_id, resource in resolver.template.resources.items()
        if resource.get("Type") in supported and resolver.is_active(logical_id)
    ]
    created: dict[str, LocalResource] = {}
    creators: dict[str, Callable[[Resolver, ClientFactory, str, dict[str, Any]], str]] = {
        BUCKET_TYPE: _create_bucket,
        QUEUE_TYPE: _create_queue,
        SECRET_TYPE: _create_secret,
    }
    for logical_id in dependency_order(resolver, candidates):
        resource = resolver.template.resources[logical_id]
        kind = str(resource["Type"])
        props = resolver.resolve(resource.get("Properties") or {}) or {}
        creator = _create_table if kind in TABLE_TYPES else creators[kind]
        name = creator(resolver, make_client, logical_id, props)
        created[logical_id] = LocalResource(logical_id=logical_id, type=kind, name=name)
        log.info("created %s %s as %s", kind, logical_id, name)
    return created


def create_table(resolver: Resolver, logical_id: str, name: str, client: ClientFactory) -> str:
    """Create one of the template's tables under `name` (the test suite's table is the
    template's own, so a key or TTL change reaches the tests without a second copy)."""
    resource = resolver.template.resources[logical_id]
    props = resolver.resolve(resource.get("Properties") or {}) or {}
    return _create_table(resolver, client, logical_id, {**props, "TableName": name})


def _create_table(
    resolver: Resolver, make_client: ClientFactory, logical_id: str, props: dict[str, Any]
) -> str:
    kind = resolver.template.resources[logical_id]["Type"]
    name = str(props.get("TableName") or physical_name(resolver, logical_id, kind))
    dynamodb = make_client("dynamodb")
    if kind == "AWS::Serverless::SimpleTable":
        key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        short = {"String": "S", "Number": "N", "Binary": "B"}.get(str(key.get("Type")), "S")
        args: dict[str, Any] = {
            "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": short}],
        }
    else:
        args = {k: props[k] for k in _TABLE_PASSTHROUGH if k in props}
    if "ProvisionedThroughput" not in args:
        # CloudFormation's default billing mode needs throughput; locally it does not matter.
        args["BillingMode"] = "PAY_PER_REQUEST"
    stream = props.get("StreamSpecification") or {}
    if stream.get("StreamViewType"):
        args["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    description = dynamodb.create_table(TableName=name, **args)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("AttributeName") and str(ttl.get("Enabled", True)).lower() == "true":
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    resolver.attributes[logical_id] = {
        "Ref": name,
        "Arn": description["TableArn"],
        "StreamArn": description.get("LatestStreamArn", ""),
    }
    return name


def _create_queue(
    resolver: Resolver, make_client: ClientFactory, logical_id: str, props: dict[str, Any]
) -> str:
    name = str(props.get("QueueName") or physical_name(resolver, logical_id, QUEUE_TYPE))
    if str(props.get("FifoQueue", "")).lower() == "true" and not name.endswith(".fifo"):
        name += ".fifo"
    attributes: dict[str, str] = {}
    for key in _QUEUE_ATTRIBUTES:
        if key not in props:
            continue
        value = props[key]
        if isinstance(value, dict):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        attributes[key] = str(value)
    sqs = make_client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    resolver.attributes[logical_id] = {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}
    return name


def _create_bucket(
    resolver: Resolver, make_client: ClientFactory, logical_id: str, props: dict[str, Any]
) -> str:
    name = str(props.get("BucketName") or physical_name(resolver, logical_id, BUCKET_TYPE))
    s3 = make_client("s3")
    if resolver.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": resolver.region}
        )
    resolver.attributes[logical_id] = {
        "Ref": name,
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{resolver.region}.amazonaws.com",
        "DualStackDomainName": f"{name}.s3.dualstack.{resolver.region}.amazonaws.com",
        "WebsiteURL": f"http://{name}.s3-website-{resolver.region}.amazonaws.com",
    }
    versioning = (props.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
    if cors:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": _cors_rules(cors)})
    notifications = props.get("NotificationConfiguration") or {}
    if notifications:
        _configure_notifications(resolver, s3, name, notifications)
    return name


def _cors_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    renamed = {"ExposedHeaders": "ExposeHeaders", "Id": "ID", "MaxAge": "MaxAgeSeconds"}
    return [{renamed.get(k, k): v for k, v in rule.items()} for rule in rules]


def _configure_notifications(
    resolver: Resolver, s3: Any, bucket: str, notifications: dict[str, Any]
) -> None:
    """S3 -> SQS notifications, translated from CloudFormation's spelling to the API's.

    moto delivers them itself (an `s3:TestEvent` first, like AWS, then one message per
    created object whose key passes the filter).
    """
    for unsupported in ("LambdaConfigurations", "TopicConfigurations", "EventBridgeConfiguration"):
        if notifications.get(unsupported):
            resolver.warn(f"bucket {bucket}: {unsupported} are not emulated locally")
    queues = []
    for entry in notifications.get("QueueConfigurations") or []:
        config: dict[str, Any] = {"QueueArn": entry.get("Queue", ""), "Events": [entry["Event"]]}
        rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("Rules")
        if rules:
            config["Filter"] = {
                "Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
            }
        if not config["QueueArn"]:
            resolver.warn(f"bucket {bucket}: a queue notification has no local queue; skipped")
            continue
        queues.append(config)
    if queues:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queues}
        )


def _create_secret(
    resolver: Resolver, make_client: ClientFactory, logical_id: str, props: dict[str, Any]
) -> str:
    name = str(props.get("Name") or physical_name(resolver, logical_id, SECRET_TYPE))
    value = props.get("SecretString")
    generate = props.get("GenerateSecretString")
    if value is None and isinstance(generate, dict):
        generated = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
        template_json = generate.get("SecretStringTemplate")
        key = generate.get("GenerateStringKey")
        if template_json and key:
            document = json.loads(template_json)
            document[key] = generated
            value = json.dumps(document)
        else:
            value = generated
    args: dict[str, Any] = {"Name": name, "SecretString": str(value if value is not None else "{}")}
    if props.get("Description"):
        args["Description"] = str(props["Description"])
    arn = make_client("secretsmanager").create_secret(**args)["ARN"]
    resolver.attributes[logical_id] = {"Ref": arn, "Id": arn, "Name": name}
    return name


def put_secret(secret_id: str, value: dict[str, Any], region: str) -> None:
    """Replace a secret's value (the upstream credentials from the shell environment)."""
    client = boto3.client("secretsmanager", region_name=region)
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def allow_public_read(bucket: str, region: str) -> None:
    """Let a browser GET the bucket's objects by plain URL (what CloudFront does in AWS)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LocalPublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    client = boto3.client("s3", region_name=region)
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
