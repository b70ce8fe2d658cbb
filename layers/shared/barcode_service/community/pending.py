"""A contributor's own pending contribution, answered to that contributor alone.

In the community provider's place in LOOKUP_PROVIDERS: a catalog item, or a cached
answer of a provider listed before `community`, still wins. Never cached, and nothing is
spent on providers for it: everyone else is answered as if it did not exist until it is
published.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..cache import CachedLookup
from ..gtin import Gtin
from ..observability import count
from ..product import Product
from ..providers import COMMUNITY
from ..providers.community import community_product
from .model import ATTRIBUTION, CodeRecord


def pending_answer(
    gtin: Gtin,
    record: CodeRecord | None,
    caller: str | None,
    providers: Sequence[str],
    now: int,
) -> Product | None:
    """The caller's own pending contribution of `gtin` as an answer, or None."""
    if record is None or not caller or COMMUNITY not in providers:
        return None
    contribution = record.answer_for(caller)
    if contribution is None or contribution.status != "pending":
        return None
    count("CommunityPendingAnswer")
    answer = community_product(record, contribution)
    return Product(
        gtin,
        answer.fields(),
        "upstream",
        now,
        provider=COMMUNITY,
        attribution=ATTRIBUTION,
        details=answer.details,
        fresh_until=now,  # a client asks again: it may be published any time
    )


def answers_before_community(cached: CachedLookup, providers: Sequence[str]) -> bool:
    """Whether a cached answer is a "found" of a provider listed before `community`."""
    provider = cached.provider or ""
    return (
        cached.status == "found"
        and provider in providers
        and providers.index(provider) < providers.index(COMMUNITY)
    )
