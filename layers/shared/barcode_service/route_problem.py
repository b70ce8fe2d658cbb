"""The answer of a route nobody answered: which problem, its Retry-After, what to wait out.

The first failing provider (in LOOKUP_PROVIDERS order) gives the problem. A call that
failed answers with its own error (what the provider said); a provider not asked because
of a block answers as the block (provider_health.ProviderBlock.error). A block's end sets
the Retry-After, on the service's clock (a quota's reset included). Errors are copied,
never changed: the one a provider raised may be held elsewhere.
"""

from __future__ import annotations

from typing import Any

from .errors import ServiceError, UpstreamError
from .provider_health import OUTAGE, ProviderBlock
from .router import ProviderResult, Route
from .statuses import ProviderOutcome

SHORT_RETRY = 5
"""Retry-After of a failure that names none (a malformed answer): the next try may work."""


def route_problem(failure: ProviderResult, route: Route, now: float) -> ServiceError:
    """The problem of a route whose first failing provider is `failure`, with `providers`."""
    block = failure.block
    extra: dict[str, Any] = {"providers": route.summary(), "provider": failure.provider}
    if failure.called and failure.error is not None:
        error = failure.error
        retry_after = error.retry_after or SHORT_RETRY
        if block is not None and block.code != OUTAGE:
            retry_after = max(1, int(block.until - now))
            if "reset_at" in error.extra:
                extra["reset_at"] = block.retry_at()
        return error.copy(retry_after=retry_after, extra=extra)
    if block is not None:
        return block.error(now).copy(extra=extra)
    error = failure.error or UpstreamError(f"{failure.provider} could not answer")
    return error.copy(retry_after=error.retry_after or SHORT_RETRY, extra=extra)


def wait_for(failure: ProviderResult, problem: ServiceError, now: float) -> ProviderBlock | None:
    """What an upload may wait out: a quota or account block, or the caller's budget."""
    if failure.outcome in (ProviderOutcome.QUOTA, ProviderOutcome.AUTH):
        return failure.block
    if failure.outcome is ProviderOutcome.OVER_BUDGET:
        until = int(now) + (problem.retry_after or 1)
        return ProviderBlock(failure.provider, problem.code, until)
    return None
