"""The docs site's hook: a benchmark's rows of bench/RESULTS.md become a table."""

from __future__ import annotations

import pytest

from scripts.docs_site import RESULTS, on_page_markdown, results_table

RESULTS_TEXT = """| benchmark | figure | measured | target | |
|---|---|---|---|---|
| cost | per million: lookup, cache hit | $4.34 (Lambda $0.28) |  |  |
| warm | cache-hit lookup through the handler | 3.75 ms | <= 1.3x | ok |
| cost | prices (inputs) | as of 2025-06 |  |  |
"""


def test_a_benchmarks_rows_become_a_table_of_their_own() -> None:
    assert results_table(RESULTS_TEXT, "cost") == "\n".join(
        [
            "| figure | measured |",
            "|---|---|",
            "| per million: lookup, cache hit | $4.34 (Lambda $0.28) |",
            "| prices (inputs) | as of 2025-06 |",
        ]
    )


def test_a_benchmark_without_rows_fails_the_build() -> None:
    with pytest.raises(ValueError, match="no rows of benchmark 'nothing'"):
        results_table(RESULTS_TEXT, "nothing")


def test_the_placeholder_is_replaced_by_the_repositorys_results() -> None:
    page = on_page_markdown("Costs:\n\n<!-- results: cost -->\n")
    assert page.startswith("Costs:\n\n| figure | measured |\n|---|---|\n| ")
    assert "| per million: lookup GET /products/{code}, cache hit |" in page
    assert "<!-- results" not in page
    assert "| cost |" in RESULTS.read_text(encoding="utf-8")
    assert on_page_markdown("nothing to do") == "nothing to do"
