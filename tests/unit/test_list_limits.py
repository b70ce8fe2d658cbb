"""Lists that cannot crash the worker: line, column, code and row limits (issue 22, item 3).

Before, a first line over 128 KiB raised `_csv.Error` outside the error handling: the
worker crashed on every delivery and the job ended `failed` with `processing_failed`
and no rows (in AWS after about an hour of retries). Each trigger of the issue is now a
job that fails at once with `unreadable_upload` naming the line and the limit, before
any lookup; a code cell longer than any code is an `invalid_gtin` row like any bad code.
"""

from __future__ import annotations

import pytest
import responses

from barcode_service.codelist import (
    MAX_CODE_CHARS,
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    parse_code_list,
)
from barcode_service.errors import PayloadTooLarge, UnreadableUpload
from tests.support.workers import FOUND, Env, Upstream, make_worker, upload

TRIGGERS = {
    "200 KB of digits then one code": b"1" * 200_000 + b"\n" + FOUND.encode() + b"\n",
    "a 140 KB CSV header": b"code," + b"x" * 140_000 + b"\n" + FOUND.encode() + b",a\n",
    "a 100k-column header": b",".join([b"c"] * 100_000) + b"\n" + FOUND.encode() + b"\n",
    "2,000 columns in a short line": b",".join([b"c"] * 2_000) + b"\n" + FOUND.encode() + b"\n",
}


@pytest.mark.parametrize("data", TRIGGERS.values(), ids=TRIGGERS.keys())
def test_each_trigger_fails_the_job_at_once_before_any_lookup(
    env: Env, mock: responses.RequestsMock, data: bytes
) -> None:
    upstream = Upstream(mock, {FOUND})
    result = make_worker(env).handle(upload(env, "codes.csv", data))  # no exception: no retry
    assert result.to_dict()["objects"][0]["failed"] == "unreadable_upload"
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == "unreadable_upload"
    assert "line 1 has" in job.error["detail"]
    assert f"at most {MAX_LINE_CHARS:,}" in job.error["detail"] or (
        f"at most {MAX_COLUMNS:,}" in job.error["detail"]
    )
    assert upstream.calls == []
    assert env.messages() == []


def test_the_line_named_is_the_long_one() -> None:
    data = b"code\n" + b"6901234567892\n" * 3 + b"9" * (MAX_LINE_CHARS + 1) + b"\n"
    with pytest.raises(UnreadableUpload, match=r"line 5 has 65,537 characters"):
        parse_code_list(data)


def test_a_line_at_the_limit_is_read() -> None:
    long_name = "n" * (MAX_LINE_CHARS - len(",6901234567892"))
    data = f"name,code\n{long_name},6901234567892\n".encode()
    assert [row.code for row in parse_code_list(data)] == ["6901234567892"]


def test_a_row_at_the_column_limit_is_read() -> None:
    header = ",".join(["code", *[f"c{n}" for n in range(MAX_COLUMNS - 1)]])
    rows = parse_code_list(f"{header}\n6901234567892\n".encode())
    assert [row.code for row in rows] == ["6901234567892"]


def test_a_code_cell_longer_than_any_code_is_kept_short(
    env: Env, mock: responses.RequestsMock
) -> None:
    Upstream(mock, {FOUND})
    data = ("code\n" + "7" * 50_000 + "\n" + FOUND + "\n").encode()
    make_worker(env).handle(upload(env, "codes.csv", data))
    job = env.job()
    assert job.status == "done"
    assert job.results is not None
    long_row, good = job.results
    assert long_row["status"] == "invalid_gtin"
    assert long_row["code"] == "7" * MAX_CODE_CHARS + "…"
    assert good["status"] == "found"


def test_rows_past_the_cap_are_counted_not_kept() -> None:
    with pytest.raises(PayloadTooLarge, match=r"2,000 rows; at most 10 "):
        parse_code_list(b"6901234567892\n" * 2_000, max_rows=10)
    assert len(parse_code_list(b"6901234567892\n" * 10, max_rows=10)) == 10
