"""Upload rows are paid from their creator's daily budget; a list has a row cap."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
import responses

from barcode_service.budgets import Budgets
from barcode_service.callers import Caller
from barcode_service.uploads.status import status_view
from barcode_service.uploads.worker import UploadWorker
from tests.conftest import TABLE
from tests.support.workers import (
    UID,
    Env,
    Upstream,
    Wall,
    gtin13,
    make_worker,
    notification,
    record_sends,
    zint_png,
)

OWNER = Caller("api_key", "k7x2m9p4q1").key
OTHER = Caller("api_key", "partner-key").key
NOON = datetime(2031, 3, 15, 12, 0, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2031, 3, 16, tzinfo=UTC).timestamp()


def budgeted(worker: UploadWorker, limit: int, wall: Wall) -> Budgets:
    """Give the worker's lookups a budget table of `limit` a day on the `wall` clock."""
    budgets = Budgets(TABLE, boto3.client("dynamodb"), default_limit=limit, clock=wall)
    worker.lookups.budgets = budgets
    return budgets


def upload_of(env: Env, owner: str, name: str, data: bytes, upload_id: str = UID) -> str:
    ext = name.rsplit(".", 1)[1]
    env.jobs.create(upload_id, "image" if ext == "jpg" else "list", name, "text/csv", owner)
    key = f"uploads/{upload_id}.{ext}"
    env.put(key, data)
    return notification(key, len(data))


def test_a_list_is_charged_to_its_owner_and_waits_for_the_next_day(
    env: Env, mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [gtin13(n) for n in range(5)]
    upstream = Upstream(mock, set(codes))
    wall = Wall(NOON)
    sent = record_sends(env, monkeypatch)
    worker = make_worker(env, wall=wall)
    budgets = budgeted(worker, 3, wall)
    body = "\n".join([*codes, codes[0]]).encode()  # a repeat is looked up once, paid once
    result = worker.handle(upload_of(env, OWNER, "codes.txt", body)).to_dict()
    assert result["objects"][0]["deferred_at"] == 3
    assert upstream.calls == codes[:3]  # the fourth code never reached the provider
    assert budgets.state(OWNER).used == 3
    assert budgets.state(OTHER).used == 0

    job = env.job()
    midnight = datetime.fromtimestamp(MIDNIGHT, UTC).isoformat()
    assert job.waiting == {"code": "client_budget_exceeded", "until": midnight}
    assert "daily lookup budget" in status_view(job, presign=str)["message"]
    (entry,) = sent
    assert entry["DelaySeconds"] == 900

    # The next UTC day the budget is back and the list completes.
    wall.now = MIDNIGHT + 10
    worker.handle(sent[-1]["MessageBody"])
    done = env.job()
    assert done.status == "done"
    assert done.counts["found"] == 6
    assert budgets.state(OWNER).used == 2


def test_a_photo_over_budget_gets_error_rows_at_once(
    env: Env, mock: responses.RequestsMock
) -> None:
    code = "6901234567892"
    upstream = Upstream(mock, {code})
    wall = Wall(NOON)
    worker = make_worker(env, wall=wall)
    budgeted(worker, 0, wall).set_override(OWNER, 1)
    budgets = worker.lookups.budgets
    assert budgets is not None
    budgets.reserve(OWNER, 1)  # the day's one lookup is already spent
    worker.handle(upload_of(env, OWNER, "shelf.jpg", zint_png(code)))
    job = env.job()
    assert job.status == "done"
    (row,) = job.results or []
    assert row["status"] == "error"
    assert row["error"]["code"] == "client_budget_exceeded"
    assert upstream.calls == []


def test_an_upload_without_owner_is_charged_to_nobody(
    env: Env, mock: responses.RequestsMock
) -> None:
    code = gtin13(7)
    Upstream(mock, {code})
    wall = Wall(NOON)
    worker = make_worker(env, wall=wall)
    budgets = budgeted(worker, 1, wall)
    worker.handle(upload_of(env, "", "codes.txt", code.encode()))
    assert env.job().status == "done"
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert not [i for i in items if i["pk"]["S"].startswith("BUDGET#")]
    assert budgets.state(OWNER).used == 0


def test_a_list_over_the_row_cap_fails_before_any_lookup(
    env: Env, mock: responses.RequestsMock
) -> None:
    codes = [gtin13(n) for n in range(12)]
    upstream = Upstream(mock, set(codes))
    worker = make_worker(env, upload_max_rows=10)
    result = worker.handle(upload_of(env, OWNER, "codes.csv", "\n".join(codes).encode())).to_dict()
    assert result["objects"][0]["failed"] == "payload_too_large"
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == "payload_too_large"
    assert "12 rows" in job.error["detail"]
    assert "at most 10" in job.error["detail"]
    assert upstream.calls == []
    assert env.messages() == []  # no chunk was sent either


def test_a_list_at_the_row_cap_is_processed(env: Env, mock: responses.RequestsMock) -> None:
    codes = [gtin13(n) for n in range(10)]
    Upstream(mock, set(codes))
    worker = make_worker(env, upload_max_rows=10)
    worker.handle(upload_of(env, OWNER, "codes.csv", "\n".join(codes).encode()))
    assert env.job().status == "done"


def test_the_row_cap_is_a_setting_with_a_sensible_default() -> None:
    from barcode_service.settings import SettingsError, load_settings

    assert load_settings({}).upload_max_rows == 10_000
    assert load_settings({"UPLOAD_MAX_ROWS": "250"}).upload_max_rows == 250
    assert load_settings({}).client_daily_lookup_budget == 5000
    assert load_settings({"CLIENT_DAILY_LOOKUP_BUDGET": "0"}).client_daily_lookup_budget == 0
    with pytest.raises(SettingsError, match="UPLOAD_MAX_ROWS"):
        load_settings({"UPLOAD_MAX_ROWS": "0"})
    with pytest.raises(SettingsError, match="CLIENT_DAILY_LOOKUP_BUDGET"):
        load_settings({"CLIENT_DAILY_LOOKUP_BUDGET": "-1"})
