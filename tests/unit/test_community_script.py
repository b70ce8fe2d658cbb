"""scripts/community.py: operators list, approve, reject and export contributions."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import boto3
import pytest

from barcode_service.cache import CachedLookup, DynamoLookupStore
from barcode_service.community.model import CodeRecord, Contribution, Description
from barcode_service.community.store import DynamoCommunityStore
from barcode_service.product import ProductFields
from scripts import community
from tests.conftest import TABLE

CODE = "0012345678905"
GTIN = "0" + CODE


def contribute(who: str, name: str, gtin: str = GTIN) -> None:
    def change(record: CodeRecord) -> CodeRecord:
        return record.with_contribution(Contribution(who, Description(name, "Brand"), 10, 10))

    DynamoCommunityStore(TABLE, boto3.client("dynamodb")).change(gtin, change)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = community.main(["--table", TABLE, *args], environ=dict(os.environ))
    out, err = capsys.readouterr()
    return status, out, err


def record() -> CodeRecord:
    found = DynamoCommunityStore(TABLE, boto3.client("dynamodb")).get(GTIN)
    assert found is not None
    return found


def test_list_shows_pending_codes_with_their_provenance(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "list")[1].strip() == "no pending contributions"
    contribute("alice-hash", "Soap")
    contribute("bob-hash", "SOAP")
    status, out, _ = run(capsys, "list")
    assert status == 0
    assert out.splitlines()[0] == f"{GTIN}  pending"
    assert "alice-hash  pending    2 agree" in out
    assert "bob-hash" in out


def test_approve_publishes_the_most_agreed_and_caches_it_for_everyone(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    contribute("alice-hash", "Soap")
    contribute("bob-hash", "Spam")
    contribute("carol-hash", "soap")
    DynamoLookupStore(TABLE).put_result(
        GTIN, CachedLookup("not_found", ProductFields(), 1, 2), stale_grace=10
    )
    status, out, _ = run(capsys, "approve", CODE)
    assert status == 0, out
    published = record().published
    assert published is not None
    assert (published.contributor, published.by, published.confirmations) == (
        "alice-hash",
        "operator",
        2,
    )
    cached = DynamoLookupStore(TABLE).snapshot(GTIN).cached
    assert cached is not None
    assert (cached.status, cached.provider, cached.fields.name) == ("found", "community", "Soap")


def test_approve_asks_which_when_contributions_disagree(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    contribute("alice-hash", "Soap")
    contribute("bob-hash", "Spam")
    status, _, err = run(capsys, "approve", CODE)
    assert status == 1
    assert "--contributor" in err
    assert "alice-hash" in err
    assert "bob-hash" in err
    assert run(capsys, "approve", CODE, "--contributor", "bob-hash")[0] == 0
    published = record().published
    assert published is not None
    assert published.contributor == "bob-hash"


def test_reject_withdraws_a_publication_from_every_answer(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    contribute("alice-hash", "Soap")
    run(capsys, "approve", CODE)
    assert run(capsys, "reject", CODE)[0] == 0
    assert record().state == "rejected"
    assert record().published is None
    assert DynamoLookupStore(TABLE).snapshot(GTIN).cached is None


def test_reject_leaves_another_providers_cached_answer(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    contribute("alice-hash", "Soap")
    entry = CachedLookup("found", ProductFields(name="Real"), 1, 2, provider="openfoodfacts")
    DynamoLookupStore(TABLE).put_result(GTIN, entry, stale_grace=10)
    run(capsys, "approve", CODE)  # the provider's answer stays cached over the approval
    run(capsys, "reject", CODE)
    cached = DynamoLookupStore(TABLE).snapshot(GTIN).cached
    assert cached is not None
    assert cached.provider == "openfoodfacts"


def test_unknown_codes_and_contributors_are_errors(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "approve", CODE)
    assert (status, err.strip()) == (1, f"nobody contributed to {GTIN}")
    contribute("alice-hash", "Soap")
    assert run(capsys, "reject", CODE, "--contributor", "nobody")[0] == 1
    assert run(capsys, "approve", "12345")[0] == 1, "not a code"


def test_export_every_contribution_as_csv_or_json(
    table: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    contribute("alice-hash", "=HYPERLINK(evil)")
    contribute("bob-hash", "Tea", gtin="00000000000017")
    run(capsys, "approve", CODE)
    status, out, _ = run(capsys, "export", "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["gtin"] for r in rows] == ["00000000000017", GTIN]
    published = rows[1]
    assert published["name"] == "'=HYPERLINK(evil)", "never a live formula in a spreadsheet"
    assert (published["status"], published["published_by"]) == ("published", "operator")
    assert published["contributor"] == "alice-hash"
    assert published["contributed_at"].startswith("1970-01-01T00:00:10")
    target = tmp_path / "contributions.json"
    status, out, _ = run(capsys, "export", "--format", "json", "--output", str(target))
    assert out.strip() == f"2 contributions written to {target}"
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported[1]["name"] == "=HYPERLINK(evil)", "JSON keeps the text as given"


def test_local_without_a_running_stack(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status = community.main(["--local", "list"], environ={"LOCAL_STATE_DIR": str(tmp_path)})
    assert status == 2
    assert "make run" in capsys.readouterr().err
