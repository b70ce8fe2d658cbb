"""Each function's role grants what its code calls and nothing more (issue: least privilege).

The roles are written out in template.yaml (no SAM policy templates, no managed policies:
those grant whole tables, `*` queues and `logs:CreateLogGroup`). These tests pin every
grant, action by action, with the item kinds (`pk` prefixes, docs/architecture.md) and
object prefixes it covers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

Resources = dict[str, dict[str, Any]]
FUNCTIONS = (
    "LookupFunction",
    "GenerateFunction",
    "UploadsFunction",
    "UploadWorkerFunction",
    "UploadSweeperFunction",
)

LOOKUP_READS = {"PRODUCT#*", "CATALOG#*", "HEALTH#*", "LEASE#*", "MISS#*", "RATE#*", "COMMUNITY#*"}
LOOKUP_ITEMS = {
    # BUDGET#: a caller's count of the day; CLIENT#: an operator's budget override.
    "dynamodb:GetItem": LOOKUP_READS | {"BUDGET#*", "CLIENT#*"},
    "dynamodb:BatchGetItem": LOOKUP_READS | {"BUDGET#*", "CLIENT#*"},
    # COMMUNITY#: community records, each change one conditional put of the record.
    "dynamodb:PutItem": {"PRODUCT#*", "LEASE#*", "MISS#*", "COMMUNITY#*"},
    # DAY#: a provider's calls of the day against its daily allowance (limiter.py).
    "dynamodb:UpdateItem": {"RATE#*", "DAY#*", "HEALTH#*", "BUDGET#*"},
    "dynamodb:DeleteItem": {"LEASE#*"},
}
# Per function: DynamoDB action -> the item kinds (LeadingKeys patterns) it may touch.
DYNAMODB = {
    "LookupFunction": {
        **LOOKUP_ITEMS,
        # UPLOAD#: the product photo a contribution names (its job, only read);
        # CONTRIBUTIONS#: a caller's contributions of the day.
        "dynamodb:GetItem": LOOKUP_ITEMS["dynamodb:GetItem"] | {"UPLOAD#*"},
        "dynamodb:UpdateItem": LOOKUP_ITEMS["dynamodb:UpdateItem"] | {"CONTRIBUTIONS#*"},
    },
    "GenerateFunction": {"dynamodb:GetItem": {"BARCODE#*"}, "dynamodb:PutItem": {"BARCODE#*"}},
    "UploadsFunction": {"dynamodb:GetItem": {"UPLOAD#*"}, "dynamodb:PutItem": {"UPLOAD#*"}},
    "UploadWorkerFunction": {
        "dynamodb:GetItem": LOOKUP_ITEMS["dynamodb:GetItem"] | {"UPLOAD#*", "IDEMPOTENCY#*"},
        "dynamodb:BatchGetItem": LOOKUP_ITEMS["dynamodb:BatchGetItem"],
        "dynamodb:PutItem": LOOKUP_ITEMS["dynamodb:PutItem"] | {"IDEMPOTENCY#*"},
        "dynamodb:UpdateItem": {
            "RATE#*",
            "DAY#*",
            "HEALTH#*",
            "BUDGET#*",
            "UPLOAD#*",
            "IDEMPOTENCY#*",
        },
        "dynamodb:DeleteItem": {"LEASE#*", "IDEMPOTENCY#*"},
    },
    # Query: the ActiveJobs index's one partition ("processing"), nothing of the table.
    "UploadSweeperFunction": {
        "dynamodb:GetItem": {"UPLOAD#*"},
        "dynamodb:UpdateItem": {"UPLOAD#*"},
        "dynamodb:Query": {"processing"},
    },
}
ACTIVE_JOBS_INDEX = {"Fn::Sub": "${CacheTable.Arn}/index/ActiveJobs"}
# Per function: S3 object action -> "<bucket logical id>/<key pattern>".
S3_OBJECTS = {
    "LookupFunction": {},
    "GenerateFunction": {
        "s3:GetObject": {"ImagesBucket/barcodes/*"},
        "s3:PutObject": {"ImagesBucket/barcodes/*"},
    },
    "UploadsFunction": {
        "s3:PutObject": {"UploadsBucket/uploads/*"},  # signs the presigned POST
        "s3:GetObject": {"UploadsBucket/results/*"},  # signs the result URLs
    },
    "UploadWorkerFunction": {
        "s3:GetObject": {"UploadsBucket/uploads/*", "UploadsBucket/results/*"},
        # products/: community product photos, checked and re-encoded by the worker.
        "s3:PutObject": {"UploadsBucket/results/*", "ImagesBucket/products/*"},
    },
    "UploadSweeperFunction": {
        "s3:GetObject": {"UploadsBucket/results/*"},  # a run's work files
        "s3:PutObject": {"UploadsBucket/results/*"},  # the results of a finished run
    },
}
# s3:ListBucket only turns "missing object" into 404 instead of 403; listings stay under.
# The sweeper lists a run's saved progress: always with a prefix under results/.
S3_LIST = {
    "GenerateFunction": ("ImagesBucket", ["barcodes/*"], "StringLikeIfExists"),
    "UploadWorkerFunction": ("UploadsBucket", ["uploads/*"], "StringLikeIfExists"),
    "UploadSweeperFunction": ("UploadsBucket", ["results/*"], "StringLike"),
}
CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# Per function: queue -> its actions. The lookup function sends shares to retry and
# nothing else (it cannot put chunk messages on the uploads queue).
SQS = {
    "UploadWorkerFunction": {
        "UploadsQueue": CONSUME | {"sqs:SendMessage"},
        "CommunityShareQueue": CONSUME,
    },
    "UploadSweeperFunction": {"UploadsQueue": {"sqs:SendMessage"}},
    "LookupFunction": {"CommunityShareQueue": {"sqs:SendMessage"}},
}
SECRET_READERS = {"LookupFunction", "GenerateFunction", "UploadWorkerFunction"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(resources: Resources, function: str) -> list[dict[str, Any]]:
    role = resources[f"{function}Role"]["Properties"]
    return [
        statement
        for policy in role["Policies"]
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


def by_service(resources: Resources, function: str, service: str) -> list[dict[str, Any]]:
    return [
        s
        for s in statements(resources, function)
        if any(a.startswith(f"{service}:") for a in as_list(s["Action"]))
    ]


def object_pattern(resource: Any) -> str:
    """`{"Fn::Sub": "${UploadsBucket.Arn}/results/*"}` -> `UploadsBucket/results/*`."""
    template = resource["Fn::Sub"]
    assert template.startswith("${"), resource
    assert ".Arn}/" in template, resource
    bucket, _, key = template[2:].partition(".Arn}/")
    return f"{bucket}/{key}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_its_own_role_and_no_managed_policy(
    function: str, resources: Resources
) -> None:
    assert resources[function]["Properties"]["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
    role = resources[f"{function}Role"]
    assert role["Type"] == "AWS::IAM::Role"
    assert "ManagedPolicyArns" not in role["Properties"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    for statement in statements(resources, function):
        assert statement["Effect"] == "Allow"
        assert statement.get("Sid"), "every grant says what it is for"
        for action in as_list(statement["Action"]):
            assert "*" not in action, (function, action)
        assert "NotAction" not in statement
        assert "NotResource" not in statement


@pytest.mark.parametrize("function", FUNCTIONS)
def test_logs_go_only_to_the_functions_own_log_group(function: str, resources: Resources) -> None:
    (grant,) = by_service(resources, function, "logs")
    assert sorted(as_list(grant["Action"])) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    log_group = resources[function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert grant["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}
    # No CreateLogGroup: a group the stack did not make can never appear.
    assert "logs:CreateLogGroup" not in json.dumps(statements(resources, function))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_dynamodb_actions_and_item_kinds_are_explicit(function: str, resources: Resources) -> None:
    granted: dict[str, set[str]] = defaultdict(set)
    for statement in by_service(resources, function, "dynamodb"):
        if as_list(statement["Action"]) == ["dynamodb:Query"]:
            assert statement["Resource"] == ACTIVE_JOBS_INDEX, "the index only"
        else:
            assert statement["Resource"] == {"Fn::GetAtt": ["CacheTable", "Arn"]}, "table only"
        condition = statement["Condition"]
        assert list(condition) == ["ForAllValues:StringLike"], condition
        keys = condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert keys, "an empty pattern list would allow nothing and mean a mistake"
        for action in as_list(statement["Action"]):
            granted[action] |= set(keys)
    assert dict(granted) == DYNAMODB[function]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_s3_grants_name_their_prefixes(function: str, resources: Resources) -> None:
    objects: dict[str, set[str]] = defaultdict(set)
    listing = []
    for statement in by_service(resources, function, "s3"):
        actions = as_list(statement["Action"])
        if actions == ["s3:ListBucket"]:
            listing.append(statement)
            continue
        assert "s3:ListBucket" not in actions
        for action in actions:
            objects[action] |= {object_pattern(r) for r in as_list(statement["Resource"])}
    assert dict(objects) == S3_OBJECTS[function]
    if function not in S3_LIST:
        assert not listing, f"{function} never lists a bucket"
        return
    (statement,) = listing
    bucket, prefixes, operator = S3_LIST[function]
    assert statement["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
    assert statement["Condition"] == {operator: {"s3:prefix": prefixes}}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_sqs_only_on_the_named_queue(function: str, resources: Resources) -> None:
    actions: dict[str, set[str]] = defaultdict(set)
    for statement in by_service(resources, function, "sqs"):
        queue, attribute = statement["Resource"]["Fn::GetAtt"]
        assert attribute == "Arn"
        actions[queue] |= set(as_list(statement["Action"]))
    assert dict(actions) == SQS.get(function, {})
    # SendMessageBatch is authorised as sqs:SendMessage; as an IAM action it does not exist.
    assert "sqs:SendMessageBatch" not in json.dumps(resources)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_secret_only_where_upstreams_are_called(function: str, resources: Resources) -> None:
    grants = by_service(resources, function, "secretsmanager")
    if function not in SECRET_READERS:
        assert not grants
        return
    (grant,) = grants
    assert grant["Action"] == "secretsmanager:GetSecretValue"
    assert grant["Resource"] == {"Ref": "UpstreamSecret"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_nothing_else_is_granted(function: str, resources: Resources) -> None:
    services = {
        action.split(":")[0]
        for statement in statements(resources, function)
        for action in as_list(statement["Action"])
    }
    assert services <= {"logs", "xray", "dynamodb", "s3", "sqs", "secretsmanager"}
    (tracing,) = by_service(resources, function, "xray")
    assert sorted(as_list(tracing["Action"])) == [
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ]
    assert tracing["Resource"] == "*"  # X-Ray has no resource-level permissions
