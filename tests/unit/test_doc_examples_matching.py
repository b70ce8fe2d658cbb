"""The docs examples' convention: blocks found, answers compared on the members shown."""

from __future__ import annotations

from pathlib import Path

from tests.support.doc_examples import examples, mismatches, unmarked_requests

PAGE = """# A page

<!-- example -->
```sh
BASE=http://127.0.0.1:3000/v1
curl -s "$BASE/health"
```

<!-- answer -->
```json
{"status": "ok"}
```

1. In a list:

    <!-- example -->
    ```sh
    curl -s -H "x-api-key: $KEY" "$BASE/barcodes/types"
    ```

<!-- not run: needs a deployed stack -->
```sh
curl -s "$API_URL/health"
```

```sh
curl -s "$BASE/health"
```
"""


def test_examples_answers_and_unmarked_requests_are_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    found = examples(page, tmp_path)
    assert [(e.line, e.script, e.answer) for e in found] == [
        (4, 'curl -s "$BASE/health"', {"status": "ok"}),
        (17, 'curl -s -H "x-api-key: $KEY" "$BASE/barcodes/types"', None),
    ]
    assert unmarked_requests(page, tmp_path) == ["page.md:26"]


def test_an_answer_holds_the_members_shown() -> None:
    actual = {
        "gtin": "03017620422003",
        "name": "Nutella",
        "attribution": "Data from Open Food Facts (https://world.openfoodfacts.org), ...",
        "details": {"nova_group": 4, "allergens": ["milk", "nuts"]},
        "fetched_at": "2026-12-07T04:34:19+00:00",
    }
    assert mismatches({"name": "Nutella", "fetched_at": "..."}, actual) == []
    assert mismatches({"attribution": "Data from Open Food Facts ..."}, actual) == []
    assert mismatches({"details": {"allergens": ["milk", "nuts"]}}, actual) == []


def test_what_differs_is_named() -> None:
    actual = {"name": "Nutella", "details": {"nova_group": 4, "allergens": ["milk"]}}
    assert mismatches({"name": "Nutella!"}, actual) == ["$.name: 'Nutella' is not 'Nutella!'"]
    assert mismatches({"brand": "..."}, actual) == ["$.brand: missing"]
    assert mismatches({"details": {"nova_group": "4"}}, actual) == [
        "$.details.nova_group: 4 is not '4'"
    ]
    assert mismatches({"details": {"allergens": ["milk", "nuts"]}}, actual) == [
        "$.details.allergens: ['milk'] is not a list of 2"
    ]
    assert mismatches({"name": "Nut..."}, actual) == []
    assert mismatches({"name": "Nuts..."}, actual) == ["$.name: 'Nutella' is not 'Nuts...'"]
