"""docs/api.md's "Limits" table says what the code enforces (issue 22, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from barcode_service import codelist, deadline, image_budget, scans
from barcode_service.barcode_request import MAX_DIMENSION, MIN_DIMENSION
from barcode_service.batch import MAX_BATCH
from barcode_service.generate import BATCH_MAX, BATCH_UPSTREAM_BUDGET_SECONDS
from barcode_service.image_path import MAX_DIMENSION as IMAGE_PATH_MAX
from barcode_service.settings import load_settings

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.fixture(scope="module")
def limits() -> dict[str, str]:
    """The table's rows by their first cell."""
    text = API_MD.read_text(encoding="utf-8").split("### Limits", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| ")]
    return {row[0].removeprefix("| "): " | ".join(row[1:]) for row in rows[2:]}


def test_every_limit_is_the_codes(limits: dict[str, str]) -> None:
    settings = load_settings({})
    mb = 1024 * 1024
    expected = {
        "barcode batch body, requests": [f"1 to {BATCH_MAX} requests"],
        "barcode width, height": [
            f"{MIN_DIMENSION} to {MAX_DIMENSION:,} px",
            f"{IMAGE_PATH_MAX:,} px",
        ],
        "lookup batch": [f"1 to {MAX_BATCH} codes"],
        "scan photo": [f"{scans.MAX_IMAGE_BYTES // mb} MB"],
        "photo pixels (scans and uploads), checked from the header before decoding": [
            f"{image_budget.MAX_PIXELS // 1_000_000} megapixels"
        ],
        "codes looked up from one photo": [str(scans.MAX_CODES)],
        "upload file": [
            f"lists {settings.upload_max_list_bytes // mb} MB",
            f"photos {settings.upload_max_image_bytes // mb} MB",
        ],
        "list rows": [f"{settings.upload_max_rows:,}"],
        "list line (one CSV record)": [f"{codelist.MAX_LINE_CHARS:,} characters"],
        "list columns": [f"{codelist.MAX_COLUMNS:,} per row"],
        "list code cell": [f"{codelist.MAX_CODE_CHARS:,} characters"],
        "an upload job that makes no progress": [
            f"({settings.upload_stall_seconds // 60} minutes)",
            {1: "once", 2: "twice"}[settings.upload_stall_resumes],
        ],
        "time per API request, renders and lookups included": [
            f"{deadline.REQUEST_SECONDS:g} s",
            f"less {deadline.MARGIN_SECONDS:g} s",
        ],
        "one upstream call (retries included)": [
            f"{settings.upstream_deadline:g} s",
            f"after {BATCH_UPSTREAM_BUDGET_SECONDS:g} s",
        ],
    }
    for row, values in expected.items():
        assert row in limits, row
        for value in values:
            assert value in limits[row], (row, value)
