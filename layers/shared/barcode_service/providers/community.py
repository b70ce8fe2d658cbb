"""The community catalog as a provider: published contributions, in their place.

Answers a code with the contribution everyone is answered with (published after
COMMUNITY_CONFIRMATIONS distinct callers agreed, or an operator approved it; see
community/model.py), never with one still pending: a pending contribution is answered
only to its own contributor, by the lookup service before any provider is asked, and
never cached for anyone. Its answers are cached like every provider's. It reads our
own table, so its limit is only the fleet limiter's bookkeeping.

`details`: `status` ("published"; "pending" in a contributor's own answer),
`confirmations` (distinct callers who agree), `category`, `quantity`,
`contributed_at`, `published_at`, `published_by` ("confirmations" or "operator").
"""

from __future__ import annotations

from datetime import datetime

from ..community.model import ATTRIBUTION, CodeRecord, Contribution
from ..community.store import CommunityStore
from ..gtin import Gtin
from ..providers import COMMUNITY
from .base import ProviderNotFound, ProviderProduct, RateLimit, an_hour_later

LIMIT = RateLimit(requests=1000, per_seconds=1)
"""Our own table: as fast as DynamoDB answers."""


def community_product(record: CodeRecord, contribution: Contribution) -> ProviderProduct:
    """A contribution as a provider answer: its own text only, nothing merged into it."""
    text = contribution.description
    return ProviderProduct(
        name=text.name,
        brand=text.brand,
        spec=text.quantity,
        image_url=contribution.image_url,
        details=record.details(contribution),
    )


class CommunityProvider:
    """Published contributions of the app's own users."""

    name = COMMUNITY
    attribution = ATTRIBUTION
    limit = LIMIT

    def __init__(self, store: CommunityStore) -> None:
        self.store = store

    def serves(self, gtin: Gtin) -> bool:
        """Any product code (restricted numbers never reach a provider)."""
        return True

    def prepare(self) -> None:
        """Nothing to get ready: the table client is built with the provider."""

    def quota_reset(self, now: datetime) -> datetime:
        return an_hour_later(now)  # no quota

    def lookup(self, gtin: Gtin, deadline: float) -> ProviderProduct | ProviderNotFound:
        record = self.store.get(gtin.gtin14)
        published = record.answer_for(None) if record is not None else None
        if record is None or published is None:
            return ProviderNotFound()
        return community_product(record, published)
