"""Every AWS call a function's code makes in the tests is granted by its role in template.yaml.

moto does not enforce IAM, so a grant missing from template.yaml would only show up as
AccessDenied in AWS. This pytest plugin watches every botocore call (and presigned
URL, which S3 checks against the signer's role when it is used) made while a function
handler (`functions/<name>/app.py`) is on the stack, turns it into the IAM request AWS
would authorise (action, resource, `dynamodb:LeadingKeys`, `s3:prefix`), and checks it
against that function's statements in the translated template. Any call not granted
fails the test run at the end, naming the function, the action and the item kind.
Calls outside a handler (test setup, unit tests of the layer) are not attributed.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.signers import S3PostPresigner

from tests.support.sam import transformed_template

FUNCTIONS = {
    "lookup": "LookupFunction",
    "generate": "GenerateFunction",
    "uploads": "UploadsFunction",
    "upload_worker": "UploadWorkerFunction",
    "upload_sweeper": "UploadSweeperFunction",
}
_HANDLER = re.compile(r"[/\\]functions[/\\](\w+)[/\\]app\.py$")
# S3 authorises these operations as another action.
_S3_ACTIONS = {
    "HeadObject": "GetObject",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
}
_SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}


@dataclass(frozen=True)
class Request:
    """One IAM authorisation, symbolically: resources by their template logical id."""

    function: str
    action: str
    resource: str  # logical id, e.g. CacheTable, UploadsBucket
    key: str | None = None  # object key (S3 object actions)
    leading_keys: tuple[str, ...] = ()
    prefix: str | None = None  # s3:prefix of a listing

    def describe(self) -> str:
        what = self.resource
        if self.key is not None:
            what += f"/{self.key}"
        if self.leading_keys:
            what += f" pk={list(self.leading_keys)}"
        return f"{self.function}: {self.action} on {what}"


@dataclass
class Audit:
    denied: set[str] = field(default_factory=set)
    checked: int = 0


AUDIT = Audit()


def _handler_in(frame: Any) -> str | None:
    while frame is not None:
        match = _HANDLER.search(frame.f_code.co_filename)
        if match and match.group(1) in FUNCTIONS:
            return FUNCTIONS[match.group(1)]
        frame = frame.f_back
    return None


def _in_thread_pool(frame: Any) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.endswith(os.path.join("concurrent", "futures", "thread.py")):
            return True
        frame = frame.f_back
    return False


def _handler_on_stack() -> str | None:
    """The function whose handler made this call (also from its worker threads)."""
    frame = sys._getframe(2)
    own = _handler_in(frame)
    if own is not None or not _in_thread_pool(frame):
        return own
    # A thread pool of the handler (batch lookups): the one handler running elsewhere.
    others = {_handler_in(frame) for frame in sys._current_frames().values()} - {None}
    return others.pop() if len(others) == 1 else None


def _bucket(name: str) -> str:
    known = {os.environ.get("IMAGES_BUCKET"): "ImagesBucket"}
    known[os.environ.get("UPLOADS_BUCKET")] = "UploadsBucket"
    return known.get(name) or f"unknown-bucket:{name}"


def _pk(key: Any) -> str:
    value = key.get("pk") if isinstance(key, dict) else None
    if isinstance(value, dict):
        return str(value.get("S"))
    return str(value)


def requests_for(
    function: str, service: str, operation: str, params: dict[str, Any]
) -> list[Request]:
    """The IAM request(s) one API call needs; unknown calls map to a request nothing grants."""
    if service == "dynamodb":
        action = f"dynamodb:{operation}"
        if operation == "BatchGetItem":
            keys = [_pk(k) for table in params["RequestItems"].values() for k in table["Keys"]]
            return [Request(function, action, "CacheTable", leading_keys=tuple(keys))]
        if operation == "BatchWriteItem":
            return [
                Request(
                    function,
                    "dynamodb:PutItem" if "PutRequest" in w else "dynamodb:DeleteItem",
                    "CacheTable",
                    leading_keys=(
                        _pk(w.get("PutRequest", {}).get("Item") or w["DeleteRequest"]["Key"]),
                    ),
                )
                for table in params["RequestItems"].values()
                for w in table
            ]
        if operation == "Query":
            # The partition key's value in the key condition, on the table or an index.
            named = re.match(r"\s*(\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"])
            value = params["ExpressionAttributeValues"][named.group(2)] if named else {}
            index = params.get("IndexName")
            return [
                Request(
                    function,
                    action,
                    "CacheTable",
                    key=f"index/{index}" if index else None,
                    leading_keys=(str(value.get("S")),),
                )
            ]
        key = params.get("Item") if operation == "PutItem" else params.get("Key")
        return [Request(function, action, "CacheTable", leading_keys=(_pk(key),))]
    if service == "s3":
        action = "s3:" + _S3_ACTIONS.get(operation, operation)
        bucket = _bucket(str(params.get("Bucket")))
        if action == "s3:ListBucket":
            return [Request(function, action, bucket, prefix=str(params.get("Prefix", "")))]
        return [Request(function, action, bucket, key=str(params.get("Key")))]
    if service == "sqs":
        queues = {
            os.environ.get("UPLOADS_QUEUE_URL"): "UploadsQueue",
            os.environ.get("COMMUNITY_SHARE_QUEUE_URL"): "CommunityShareQueue",
        }
        queue = queues.get(params.get("QueueUrl")) or "?"
        return [Request(function, "sqs:" + _SQS_ACTIONS.get(operation, operation), queue)]
    if service == "secretsmanager":
        return [Request(function, f"secretsmanager:{operation}", "UpstreamSecret")]
    return [Request(function, f"{service}:{operation}", "?")]


# ---------------------------------------------------------------- the template's grants


def _resource(value: Any) -> tuple[str, str | None]:
    """(logical id or "*", object key pattern or None) of a policy Resource."""
    if value == "*":
        return "*", None
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0]), None
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"]), None
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        match = re.fullmatch(r"\$\{(\w+)\.Arn\}/(.+)", value["Fn::Sub"])
        if match:
            return match.group(1), match.group(2)
    return f"unparsed:{json.dumps(value)}", None


_LOCK = threading.Lock()


@cache
def _all_grants() -> dict[str, tuple[dict[str, Any], ...]]:
    resources = transformed_template()["Resources"]
    out: dict[str, tuple[dict[str, Any], ...]] = {}
    for function in FUNCTIONS.values():
        statements: list[dict[str, Any]] = []
        for policy in resources[f"{function}Role"]["Properties"].get("Policies", []):
            statements.extend(_as_list(policy["PolicyDocument"]["Statement"]))
        out[function] = tuple(statements)
    return out


def grants(function: str) -> tuple[dict[str, Any], ...]:
    """That function's role statements (the template is transformed once, on first use)."""
    with _LOCK:
        return _all_grants()[function]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition: dict[str, Any], request: Request) -> bool:
    for operator, keys in condition.items():
        for name, values in keys.items():
            patterns = _as_list(values)
            if operator == "ForAllValues:StringLike" and name == "dynamodb:LeadingKeys":
                if not all(
                    any(fnmatch.fnmatchcase(k, p) for p in patterns) for k in request.leading_keys
                ):
                    return False
            elif operator == "StringLikeIfExists" and name == "s3:prefix":
                if request.prefix is not None and not any(
                    fnmatch.fnmatchcase(request.prefix, p) for p in patterns
                ):
                    return False
            elif operator == "StringLike" and name == "s3:prefix":
                if request.prefix is None or not any(
                    fnmatch.fnmatchcase(request.prefix, p) for p in patterns
                ):
                    return False
            else:
                return False  # a condition this audit does not know: not proven granted
    return True


def granted(request: Request) -> bool:
    for statement in grants(request.function):
        if statement.get("Effect") != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(request.action, a) for a in _as_list(statement["Action"])):
            continue
        for resource in _as_list(statement["Resource"]):
            logical_id, key_pattern = _resource(resource)
            if logical_id not in ("*", request.resource):
                continue
            if logical_id != "*" and (key_pattern is None) != (request.key is None):
                continue
            if key_pattern is not None and not fnmatch.fnmatchcase(str(request.key), key_pattern):
                continue
            if _conditions_hold(statement.get("Condition", {}), request):
                return True
    return False


# ---------------------------------------------------------------- the pytest plugin


_original = BaseClient._emit_api_params


def _check(function: str, service: str, operation: str, params: dict[str, Any]) -> None:
    for request in requests_for(function, service, operation, params):
        AUDIT.checked += 1
        if not granted(request):
            AUDIT.denied.add(request.describe())


def _audited(self: BaseClient, api_params: Any, operation_model: Any, context: Any) -> Any:
    function = _handler_on_stack()
    # A presigned POST goes through CreateBucket's model; _audited_post checks it.
    is_post = context.get("is_presign_request") and operation_model.name == "CreateBucket"
    if function is not None and not is_post:
        service = self.meta.service_model.service_name
        _check(function, service, operation_model.name, dict(api_params))
    return _original(self, api_params, operation_model, context)


_original_post = S3PostPresigner.generate_presigned_post


def _audited_post(self: S3PostPresigner, request_dict: Any, *args: Any, **kwargs: Any) -> Any:
    """A presigned POST: S3 authorises the upload as the signer's s3:PutObject of its key."""
    function = _handler_on_stack()
    answer = _original_post(self, request_dict, *args, **kwargs)
    if function is not None:
        bucket = next(
            c["bucket"] for c in answer_conditions(answer) if isinstance(c, dict) and "bucket" in c
        )
        _check(function, "s3", "PutObject", {"Bucket": bucket, "Key": answer["fields"]["key"]})
    return answer


def answer_conditions(answer: dict[str, Any]) -> list[Any]:
    policy = json.loads(base64.b64decode(answer["fields"]["policy"]))
    conditions: list[Any] = policy["conditions"]
    return conditions


def pytest_configure(config: pytest.Config) -> None:
    BaseClient._emit_api_params = _audited
    S3PostPresigner.generate_presigned_post = _audited_post


def pytest_unconfigure(config: pytest.Config) -> None:
    BaseClient._emit_api_params = _original
    S3PostPresigner.generate_presigned_post = _original_post


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if AUDIT.checked:
        terminalreporter.write_line(
            f"IAM audit: {AUDIT.checked} AWS authorisations of function handlers checked "
            f"against template.yaml, {len(AUDIT.denied)} not granted"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if AUDIT.denied:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [
            "AWS calls that template.yaml does not grant (AccessDenied in AWS); "
            "extend that function's role:",
            *sorted(f"  {line}" for line in AUDIT.denied),
        ]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
