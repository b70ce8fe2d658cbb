"""One code and what became of it: the one row of batch lookups, scans and uploads.

A batch row is `code` with its status and product or problem; a scan entry adds what
was read (`text`, `format`, `kind`, `gtin`, `ai`, `position`); an upload row adds its
place in the list (`row`, `line`) or in the photo. All are a `CodeRow`, made from a
`LookupOutcome` by `CodeRow.of` and written by the one serialiser `to_dict`, which
leaves out what a row does not have: a read code (one with a `kind`) always says its
`format`, null when the scanner named none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .lookup_outcome import LookupOutcome
from .statuses import CodeStatus

ORDER = (
    "row",
    "line",
    "code",
    "format",
    "text",
    "kind",
    "gtin",
    "ai",
    "position",
    "status",
    "product",
    "error",
)
"""Members in the order an answer shows them."""


@dataclass(frozen=True)
class CodeRow:
    """One code (sent, read, or listed) and its status, with its product or problem."""

    status: CodeStatus
    code: str | None = None  # as sent (batch), or the GTIN / text of an upload row
    product: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    row: int | None = None  # place in an upload: row number (list or photo) ...
    line: int | None = None  # ... and line of a list
    format: str | None = None  # the symbology the scanner or decoder named
    text: str | None = None  # the symbol's whole text, where it holds more than the code
    kind: str | None = None  # what the text was understood as (canonical.Kind): scans
    gtin: str | None = None  # the GTIN-14 it carries (scans)
    ai: dict[str, str] | None = None  # GS1 application identifiers and raw values (scans)
    position: dict[str, int] | None = None  # where in a photo

    @classmethod
    def of(cls, outcome: LookupOutcome, **facts: Any) -> CodeRow:
        """The row of one lookup outcome, with the facts given (`code`, `row`, ...)."""
        answer = outcome.answer()
        return cls(
            outcome.status, product=answer.get("product"), error=answer.get("error"), **facts
        )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CodeRow:
        """A row as `to_dict` wrote it (work files, result documents)."""
        known = {spec.name for spec in fields(cls)}
        values = {name: raw[name] for name in known if name in raw}
        values["status"] = CodeStatus(raw["status"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The row as answers and result files show it."""
        body: dict[str, Any] = {}
        for name in ORDER:
            value = getattr(self, name)
            if value is not None or (name == "format" and self.kind is not None):
                body[name] = value
        return body
