"""LocalState: what `make run` keeps across restarts, saved and restored through moto.

Before: every restart of the local stack started from empty tables and buckets.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from local.resources import BUCKET_TYPE, SECRET_TYPE, LocalResource
from local.s3_post import LocalMotoServer
from local.state import LocalState

TABLE, BUCKET, SECRET = "local-cache", "local-uploads", "local-secret"
CREATED = {
    "CacheTable": LocalResource("CacheTable", "AWS::DynamoDB::Table", TABLE),
    "UploadsBucket": LocalResource("UploadsBucket", BUCKET_TYPE, BUCKET),
    "UpstreamSecret": LocalResource("UpstreamSecret", SECRET_TYPE, SECRET),
}


class Moto:
    def __init__(self, url: str) -> None:
        self.url = url
        self.dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")
        self.s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        self.sqs = boto3.client("sqs", endpoint_url=url, region_name="us-east-1")
        self.secrets = boto3.client("secretsmanager", endpoint_url=url, region_name="us-east-1")
        self.queue_url = ""

    def client(self, service: str) -> Any:
        return {"dynamodb": self.dynamodb, "s3": self.s3, "secretsmanager": self.secrets}[service]

    def create(self) -> None:
        """What create_resources does at every start: empty resources, notifications on."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10)
        self.dynamodb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.s3.create_bucket(Bucket=BUCKET)
        self.queue_url = self.sqs.create_queue(QueueName="uploads")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": arn["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        self.secrets.create_secret(Name=SECRET, SecretString="{}")
        self.drain()

    def drain(self) -> list[str]:
        """Keys of the object-created notifications queued (test events dropped)."""
        keys = []
        while found := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10):
            if not found.get("Messages"):
                break
            for message in found["Messages"]:
                body = json.loads(message["Body"])
                keys += [r["s3"]["object"]["key"] for r in body.get("Records", [])]
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return keys


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[Moto]:
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    server = LocalMotoServer("127.0.0.1", 0, {"testing": "testing"})
    server.start()
    local = Moto(server.url)
    try:
        local.create()
        yield local
    finally:
        requests.post(f"{server.url}/moto-api/reset", timeout=10)
        server.stop()


def test_items_objects_and_secret_survive_a_restart(moto: Moto, tmp_path: Path) -> None:
    moto.dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "CATALOG#06901234567892"},
            "name": {"S": "测试商品"},
            "blob": {"B": b"\x00\xff"},
            "nested": {"M": {"list": {"L": [{"N": "1.5"}, {"BS": [b"a", b"b"]}]}}},
        },
    )
    moto.dynamodb.put_item(
        TableName=TABLE, Item={"pk": {"S": "UPLOAD#abc"}, "status": {"S": "done"}}
    )
    moto.s3.put_object(
        Bucket=BUCKET,
        Key="uploads/abc.csv",
        Body=b"code\n1\n",
        ContentType="text/csv",
        Metadata={"filename": "codes.csv"},
    )
    moto.s3.put_object(Bucket=BUCKET, Key="results/abc.json", Body=b"{}")
    moto.secrets.put_secret_value(SecretId=SECRET, SecretString='{"generate": {"appkey": "k"}}')
    moto.drain()

    state = LocalState(tmp_path / "state", "us-east-1", client=moto.client)
    state.save(CREATED)
    assert stat.S_IMODE((tmp_path / "state" / "secrets.json").stat().st_mode) == 0o600
    before = moto.dynamodb.scan(TableName=TABLE)["Items"]

    moto.create()  # the restart: moto starts empty, the template's resources are created
    assert moto.dynamodb.scan(TableName=TABLE)["Items"] == []
    restored = state.restore(CREATED)

    assert (restored.items, restored.objects, restored.secrets) == (2, 2, 1)
    after = moto.dynamodb.scan(TableName=TABLE)["Items"]
    assert sorted(after, key=lambda i: i["pk"]["S"]) == sorted(before, key=lambda i: i["pk"]["S"])
    got = moto.s3.get_object(Bucket=BUCKET, Key="uploads/abc.csv")
    assert got["Body"].read() == b"code\n1\n"
    assert got["ContentType"] == "text/csv"
    assert got["Metadata"] == {"filename": "codes.csv"}
    secret = moto.secrets.get_secret_value(SecretId=SECRET)["SecretString"]
    assert secret == '{"generate": {"appkey": "k"}}'
    # Restored objects are not new uploads: nothing is queued for the worker...
    assert moto.drain() == []
    # ...and the notifications are back for new ones.
    moto.s3.put_object(Bucket=BUCKET, Key="uploads/new.csv", Body=b"code\n2\n")
    assert moto.drain() == ["uploads%2Fnew.csv"]  # moto URL-encodes the key (docs/local-run.md)


def test_saving_again_fetches_only_what_changed_and_forgets_deleted_objects(
    moto: Moto, tmp_path: Path
) -> None:
    moto.s3.put_object(Bucket=BUCKET, Key="a", Body=b"1")
    moto.s3.put_object(Bucket=BUCKET, Key="b", Body=b"2")
    fetched: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(moto.s3, name)

        def get_object(self, **kwargs: Any) -> Any:
            fetched.append(kwargs["Key"])
            return moto.s3.get_object(**kwargs)

    counting = Counting()
    state = LocalState(
        tmp_path, "us-east-1", client=lambda s: counting if s == "s3" else moto.client(s)
    )
    state.save(CREATED)
    moto.s3.put_object(Bucket=BUCKET, Key="b", Body=b"22")
    moto.s3.delete_object(Bucket=BUCKET, Key="a")
    fetched.clear()
    state.save(CREATED)
    assert fetched == ["b"]
    index = json.loads((tmp_path / "s3" / "UploadsBucket" / "index.json").read_text())
    assert sorted(index) == ["b"]
    assert len(list((tmp_path / "s3" / "UploadsBucket" / "objects").iterdir())) == 1


def test_clear_forgets_everything(moto: Moto, tmp_path: Path) -> None:
    moto.dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "x"}})
    state = LocalState(tmp_path / "state", "us-east-1", client=moto.client)
    state.save(CREATED)
    state.clear()
    moto.create()
    assert state.restore(CREATED).items == 0
    assert moto.dynamodb.scan(TableName=TABLE)["Items"] == []
