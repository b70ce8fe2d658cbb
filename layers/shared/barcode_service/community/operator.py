"""What an operator does with community records (scripts/community.py): list, approve,
reject, export. Each decision is one change of the record (store.change), and the
lookup cache follows at once (service.Publisher): an approval is everyone's answer, a
withdrawn publication stops being anyone's.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import InvalidParameter, NotFound
from ..uploads.results import csv_cell
from .model import CodeRecord, iso
from .service import Publisher
from .store import CommunityStore

EXPORT_COLUMNS = (
    "gtin",
    "state",
    "contributor",
    "name",
    "brand",
    "quantity",
    "category",
    "image_url",
    "status",
    "confirmations",
    "contributed_at",
    "updated_at",
    "published_by",
    "published_at",
    "share",
)


def approve(
    store: CommunityStore,
    publisher: Publisher,
    gtin14: str,
    contributor: str | None = None,
    clock: Callable[[], float] = time.time,
) -> CodeRecord:
    """Publish a code's contribution: `contributor`'s, or the one most callers agree on."""
    record = _existing(store, gtin14)
    chosen = contributor or _most_agreed(record)
    own = record.of(chosen)
    if own is None or own.status == "rejected":
        raise InvalidParameter(f"no standing contribution of {chosen} for {gtin14}")
    changed = store.change(gtin14, lambda r: r.publish(chosen, by="operator", now=int(clock())))
    assert changed is not None
    publisher.published(changed)
    return changed


def reject(
    store: CommunityStore,
    publisher: Publisher,
    gtin14: str,
    contributor: str | None = None,
    clock: Callable[[], float] = time.time,
) -> CodeRecord:
    """Reject a code's contributions (or one caller's); a publication among them is
    withdrawn from every answer."""
    record = _existing(store, gtin14)
    if contributor is not None and record.of(contributor) is None:
        raise InvalidParameter(f"{contributor} made no contribution to {gtin14}")
    changed = store.change(gtin14, lambda r: r.reject(contributor, now=int(clock())))
    assert changed is not None
    if record.published is not None and changed.published is None:
        publisher.withdrawn(gtin14)
    return changed


def _existing(store: CommunityStore, gtin14: str) -> CodeRecord:
    record = store.get(gtin14, consistent=True)
    if record is None:
        raise NotFound(f"nobody contributed to {gtin14}")
    return record


def _most_agreed(record: CodeRecord) -> str:
    """The first contributor of the agreement most standing contributions share; an
    error naming the contributors when two agreements are level."""
    standing = [c for c in record.contributions if c.counts]
    if not standing:
        raise InvalidParameter(f"every contribution to {record.gtin14} was rejected")
    counts = {c.agreement_key: record.confirmations(c.agreement_key) for c in standing}
    best = max(counts.values())
    leaders = [key for key, n in counts.items() if n == best]
    if len(leaders) > 1:
        names = ", ".join(record.first_agreeing(key).contributor for key in leaders)
        raise InvalidParameter(f"contributions disagree: choose one with --contributor ({names})")
    return record.first_agreeing(leaders[0]).contributor


def export_rows(records: Iterable[CodeRecord]) -> list[dict[str, Any]]:
    """One row per contribution with its provenance (EXPORT_COLUMNS)."""
    rows: list[dict[str, Any]] = []
    for record in records:
        published = record.published
        for c in record.contributions:
            text = c.description
            is_published = published is not None and c.status == "published"
            rows.append(
                {
                    "gtin": record.gtin14,
                    "state": record.state,
                    "contributor": c.contributor,
                    **text.to_dict(),
                    "image_url": c.image_url,
                    "status": c.status,
                    "confirmations": record.confirmations(c.agreement_key),
                    "contributed_at": iso(c.contributed_at),
                    "updated_at": iso(c.updated_at),
                    "published_by": published.by if is_published and published else None,
                    "published_at": iso(published.published_at)
                    if is_published and published
                    else None,
                    "share": c.share.status if c.share else None,
                }
            )
    return rows


def export_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as CSV; a text that a spreadsheet would run as a formula stays text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow(csv_cell(row.get(column)) for column in EXPORT_COLUMNS)
    return out.getvalue()
