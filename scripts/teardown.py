"""Delete a deployed stack cleanly: empty its buckets, delete it, name what it kept.

The buckets are deleted with the stack, but CloudFormation cannot delete a bucket that
still holds objects, so they are emptied first (every object version and delete
marker). The cache table and the credentials secret are retained by the template
(`DeletionPolicy: Retain`): catalog overrides and credentials survive a mistaken
delete. This prints how to delete them for good.

Run: .venv/bin/python -m scripts.teardown <stack name> [--region us-east-1] [--yes]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

BUCKET_OUTPUTS = ("ImagesBucketName", "UploadsBucketName")


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker of `bucket`; returns how many."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        # A page holds at most 1000 entries, the most one delete_objects call takes.
        if doomed:
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            if answer.get("Errors"):
                raise RuntimeError(f"{len(answer['Errors'])} objects of {bucket} were not deleted")
            deleted += len(doomed)
    return deleted


def teardown(
    stack: str, clients: Callable[[str], Any], say: Callable[[str], None] = print
) -> dict[str, str]:
    """Empty the buckets, delete the stack and wait; returns what the stack retained."""
    cloudformation = clients("cloudformation")
    outputs = stack_outputs(cloudformation, stack)
    s3 = clients("s3")
    for key in BUCKET_OUTPUTS:
        if key in outputs:
            say(f"emptying {outputs[key]}: {empty_bucket(s3, outputs[key])} objects deleted")
    cloudformation.delete_stack(StackName=stack)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack)
    say(f"stack {stack} deleted")
    kept: dict[str, str] = {
        key: outputs[key] for key in ("CacheTableName", "SecretName") if key in outputs
    }
    if kept:
        say("kept by the template (DeletionPolicy: Retain); to delete them for good:")
    if "CacheTableName" in kept:
        say(f"  aws dynamodb delete-table --table-name {kept['CacheTableName']}")
    if "SecretName" in kept:
        say(
            f"  aws secretsmanager delete-secret --secret-id {kept['SecretName']}"
            " --recovery-window-in-days 7"
        )
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--region")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    if not args.yes:
        answer = input(f"Delete stack {args.stack} and every object in its buckets? [y/N] ")
        if answer.strip().lower() != "y":
            return 1
    import boto3  # noqa: PLC0415 - only when really run

    session = boto3.session.Session(region_name=args.region)
    teardown(args.stack, session.client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
