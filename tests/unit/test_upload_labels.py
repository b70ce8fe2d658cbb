"""Label sheets from an uploaded CSV (purpose "labels"): the sheet checked when the upload
is created, rows read by position or header, the worker's PDF read back as printed, and
a row that cannot be printed failing the job by its line."""

from __future__ import annotations

from typing import Any

import pytest

from barcode_service.errors import EmptyUpload, InvalidParameter, UnreadableUpload
from barcode_service.uploads.labels import label_job, label_rows
from tests.support.printed import pages, read
from tests.support.workers import UID, Env, make_worker, upload

SHEET = {"sheet": "L7160", "dpi": 300}
LOT = "(01)09506000134352(17)271231(10)AB{:02d}"


def labels_csv(count: int, header: bool = False) -> bytes:
    rows = ["type,content,line1,line2"] if header else []
    rows += [
        f'gs1_datamatrix,"{LOT.format(i)}",Lot AB{i:02d},Best before 31.12.2027'
        for i in range(count)
    ]
    return ("\r\n".join(rows) + "\r\n").encode()


def labels_upload(env: Env, data: bytes, sheet: dict[str, Any] = SHEET) -> str:
    env.jobs.create(UID, "list", "labels.csv", "text/csv", labels=sheet)
    return upload(env, "labels.csv", data)


def test_a_labels_upload_becomes_the_pdf_every_label_read_where_the_sheet_says(env: Env) -> None:
    result = make_worker(env).handle(labels_upload(env, labels_csv(25))).to_dict()
    assert result["objects"][0] == {"upload_id": UID, "rows": 25}
    job = env.job()
    assert job.status == "done"
    assert job.results_key == f"results/{UID}.pdf"
    assert job.counts == {"total": 25, "labels": 25, "pages": 2}
    assert job.message == "25 labels on 2 pages: results_url is the PDF"
    first, second = pages(env.read(f"results/{UID}.pdf"), 300)
    from barcode_service.sheets import parse_sheet

    sheet = parse_sheet("L7160")
    for slot in (0, 20):
        x, y = sheet.position(slot)
        crop = first.crop_mm(x, y, sheet.label_width, sheet.label_height)
        assert read(crop, "DataMatrix") == [LOT.format(slot)]
    x, y = sheet.position(3)
    crop = second.crop_mm(x, y, sheet.label_width, sheet.label_height)
    assert read(crop, "DataMatrix") == [LOT.format(24)]


def test_a_row_that_does_not_fit_fails_the_job_naming_its_line(env: Env) -> None:
    data = (
        labels_csv(3, header=True)
        + b"ean13,6901234567892,A line of text far too long to fit on any label 63.5 mm wide\r\n"
    )
    make_worker(env).handle(labels_upload(env, data))
    job = env.job()
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == "invalid_parameter"
    assert job.error["detail"].startswith("line 5: line 0 is ")


def test_rows_by_position_or_by_header_with_copies() -> None:
    rows = label_rows(b"qrcode,A1\n\nean13,6901234567892,Tea,,\n")
    assert [(r.line, r.label) for r in rows] == [
        (1, {"type": "qrcode", "content": "A1"}),
        (3, {"type": "ean13", "content": "6901234567892", "lines": ["Tea"]}),
    ]
    named = label_rows("\ufeffType,Content,Copies,Line2\nqrcode,A1,3,second\n".encode())
    assert named[0].label == {
        "type": "qrcode",
        "content": "A1",
        "lines": ["", "second"],
        "copies": 3,
    }


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\n\n", EmptyUpload),
        (b"type,contents\nqrcode,A1\n", UnreadableUpload),
        (b"type,content,copies\nqrcode,A1,many\n", UnreadableUpload),
        (b"\x00\x01", UnreadableUpload),
    ],
)
def test_a_list_that_is_not_labels_is_refused(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        label_rows(data)


def test_the_sheet_is_checked_when_the_upload_is_created() -> None:
    assert label_job(None, None, "csv") is None
    assert label_job("labels", {"sheet": "5163", "start_at": 3}, "csv") == {
        "sheet": "5163",
        "start_at": 3,
    }
    cases = [
        (("labels", {"sheet": "L9"}, "csv"), "labels.sheet"),
        (("labels", {"sheet": "L7160", "labels": []}, "csv"), "labels.labels"),
        (("labels", None, "csv"), "labels"),
        (("labels", {"sheet": "L7160"}, "jpg"), "content_type"),
        (("print", None, "csv"), "purpose"),
        ((None, {"sheet": "L7160"}, "csv"), "labels"),
    ]
    for args, field in cases:
        with pytest.raises(InvalidParameter) as caught:
            label_job(*args)
        assert [p.name for p in caught.value.invalid_params] == [field], args
