"""The IAM audit plugin (tests/support/iam_audit.py) would see a missing or too-wide call."""

from __future__ import annotations

import pytest

from tests.support.iam_audit import Request, granted, requests_for


@pytest.mark.parametrize(
    ("request_", "allowed"),
    [
        (
            Request(
                "UploadsFunction", "dynamodb:GetItem", "CacheTable", leading_keys=("UPLOAD#a",)
            ),
            True,
        ),
        (
            Request(
                "UploadsFunction", "dynamodb:GetItem", "CacheTable", leading_keys=("PRODUCT#1",)
            ),
            False,
        ),
        (
            Request(
                "UploadsFunction", "dynamodb:DeleteItem", "CacheTable", leading_keys=("UPLOAD#a",)
            ),
            False,
        ),
        (
            Request(
                "LookupFunction",
                "dynamodb:BatchGetItem",
                "CacheTable",
                leading_keys=("PRODUCT#1", "HEALTH#baichuan"),
            ),
            True,
        ),
        (
            Request(
                "LookupFunction",
                "dynamodb:BatchGetItem",
                "CacheTable",
                leading_keys=("PRODUCT#1", "UPLOAD#a"),
            ),
            False,
        ),
        (
            Request(
                "LookupFunction", "dynamodb:PutItem", "CacheTable", leading_keys=("CATALOG#1",)
            ),
            False,
        ),
        (Request("UploadsFunction", "s3:PutObject", "UploadsBucket", key="uploads/a.csv"), True),
        (Request("UploadsFunction", "s3:PutObject", "UploadsBucket", key="results/a.json"), False),
        (
            Request("UploadWorkerFunction", "s3:ListBucket", "UploadsBucket", prefix="uploads/"),
            True,
        ),
        (Request("UploadWorkerFunction", "s3:ListBucket", "UploadsBucket", prefix=""), False),
        (Request("UploadWorkerFunction", "sqs:SendMessage", "UploadsQueue"), True),
        (Request("LookupFunction", "sqs:SendMessage", "UploadsQueue"), False),
        (Request("UploadsFunction", "secretsmanager:GetSecretValue", "UpstreamSecret"), False),
        (Request("GenerateFunction", "s3:GetObject", "UploadsBucket", key="results/a.json"), False),
    ],
)
def test_the_audit_decides_like_iam(request_: Request, allowed: bool) -> None:
    assert granted(request_) is allowed


def test_calls_map_to_the_actions_iam_checks() -> None:
    (batch,) = requests_for("UploadWorkerFunction", "sqs", "SendMessageBatch", {"QueueUrl": "?"})
    assert batch.action == "sqs:SendMessage"
    (head,) = requests_for("GenerateFunction", "s3", "HeadObject", {"Bucket": "b", "Key": "k"})
    assert head.action == "s3:GetObject"
    (unknown,) = requests_for("LookupFunction", "sts", "AssumeRole", {})
    assert not granted(unknown)
