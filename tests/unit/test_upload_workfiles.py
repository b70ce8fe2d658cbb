"""A run's work files are versioned: a file written before a deploy is read after it."""

from __future__ import annotations

import pytest

from barcode_service.codelist import ListedCode
from barcode_service.errors import InvalidGtin
from barcode_service.lookup_outcome import LookupOutcome
from barcode_service.rows import CodeRow
from barcode_service.statuses import CodeStatus
from barcode_service.uploads.workfiles import (
    UnknownWorkFile,
    read_results,
    read_rows,
    results_document,
    rows_document,
)

ROWS = [ListedCode(1, 2, "6901234567892"), ListedCode(2, 4, "abc")]


def test_input_rows_round_trip_and_the_first_format_is_still_read() -> None:
    document = rows_document(ROWS)
    assert document["version"] == 1
    assert read_rows(document) == ROWS
    assert read_rows([[1, 2, "6901234567892"], [2, 4, "abc"]]) == ROWS  # before versions


def test_result_rows_round_trip_and_the_first_format_is_still_read() -> None:
    row = CodeRow.of(LookupOutcome(InvalidGtin("bad")), code="abc", row=2, line=4)
    assert read_results(results_document([row])) == [row]
    assert read_results([row.to_dict()]) == [row]  # before versions
    assert read_results([row.to_dict()])[0].status is CodeStatus.INVALID_GTIN


@pytest.mark.parametrize("document", [{"version": 2, "rows": []}, {"rows": []}, "x"])
def test_a_version_this_code_does_not_know_is_refused_not_misread(document: object) -> None:
    with pytest.raises(UnknownWorkFile):
        read_rows(document)
