"""The status vocabulary: what a provider did with a code, and what became of a code.

One enum each, used by lookups, batch lookups, scans and uploads alike. Both are
`StrEnum`s, so they serialise as their plain values in JSON answers and stored items.
"""

from __future__ import annotations

from enum import StrEnum


class ProviderOutcome(StrEnum):
    """What one provider did with one code. Only FOUND and NOT_FOUND are answers."""

    FOUND = "found"
    NOT_FOUND = "not_found"
    NOT_SERVED = "not_served"  # the provider cannot know such a code (e.g. a book source)
    RATE_LIMITED = "rate_limited"  # its fleet-wide limit is full, or it asked us to slow down
    QUOTA = "quota"  # its quota is used up until the reset
    OUTAGE = "outage"  # it failed (timeout, 5xx, a malformed answer) or its breaker is open
    AUTH = "auth"  # our account there needs an operator
    NOT_CONFIGURED = "not_configured"  # listed, but it has no credentials
    OVER_BUDGET = "over_budget"  # not asked: the caller's daily lookup budget is spent

    @property
    def answered(self) -> bool:
        return self in (ProviderOutcome.FOUND, ProviderOutcome.NOT_FOUND)


class CodeStatus(StrEnum):
    """What became of one code: a lookup row, a scan entry or an upload row."""

    FOUND = "found"
    NOT_FOUND = "not_found"
    NOT_SERVED = "not_served"  # no provider in the list in use can know such a code
    INVALID_GTIN = "invalid_gtin"
    INVALID_GS1 = "invalid_gs1"  # GS1 data that breaks GS1's rules, reported as read (scans)
    ERROR = "error"
    RESTRICTED = "restricted"  # an in-store number: never sent to a provider (scans)
    NO_GTIN = "no_gtin"  # a code that holds no GTIN, e.g. a plain URL (scans)


LOOKUP_STATUSES = (
    CodeStatus.FOUND,
    CodeStatus.NOT_FOUND,
    CodeStatus.INVALID_GTIN,
    CodeStatus.ERROR,
)
"""The statuses every lookup row's tally shows (batch, upload list), 0 included;
`not_served` (a code no provider in use can know) and the scans' statuses appear in a
tally when they occur."""
