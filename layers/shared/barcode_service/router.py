"""The lookup router: asks product providers in order until one knows the code.

Pure routing: which provider serves a code, which are known to miss it or blocked
(state the lookup service read from the cache table), the fleet-wide limiter
before every call, one call per provider, and a `Route` that says what each one
did. Caching, blocks and negative caches are the lookup service's job; nothing
here writes to the table except the limiter's slot reservation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import (
    ClientBudgetExceeded,
    CredentialsNotConfigured,
    NotFound,
    ServiceError,
    UpstreamError,
    UpstreamRateLimited,
)
from .gtin import Gtin
from .providers.base import Provider, ProviderResult, RateLimit, ask


class Limiter(Protocol):
    """The fleet-wide limiter (limiter.FleetLimiter) as the router uses it."""

    def acquire(self, provider: str, limit: RateLimit, max_wait: float) -> float:
        """Wait for a slot; UpstreamRateLimited if none within `max_wait` s."""
        ...


class Spender(Protocol):
    """A caller's budget of provider calls (budgets.ClientBudget) as the router spends it."""

    def spend(self) -> Any:
        """Take one call (a token for `refund`); ClientBudgetExceeded if none is left."""
        ...

    def refund(self, reservation: Any) -> None:
        """Give back a call taken with `spend` that was not made."""
        ...


@dataclass(frozen=True)
class ProviderState:
    """What the table says about the providers for one code before any call."""

    misses: frozenset[str] = frozenset()  # fresh per-provider "not found" answers
    blocked: Mapping[str, ServiceError] = field(default_factory=dict)  # provider -> why


@dataclass(frozen=True)
class Route:
    """Every provider's result for one code, in LOOKUP_PROVIDERS order."""

    results: tuple[ProviderResult, ...]

    @property
    def found(self) -> ProviderResult | None:
        return next((r for r in self.results if r.outcome == "found"), None)

    @property
    def failures(self) -> tuple[ProviderResult, ...]:
        """Providers that serve the code but could not answer now."""
        return tuple(r for r in self.results if not r.answered and r.outcome != "not_served")

    @property
    def not_found(self) -> bool:
        """Every provider that serves the code said it does not know it."""
        return self.found is None and not self.failures

    @property
    def calls(self) -> int:
        """Requests sent to providers for this route."""
        return sum(1 for r in self.results if r.called)

    @property
    def country(self) -> str | None:
        return next((r.country for r in self.results if r.country), None)

    def summary(self) -> list[dict[str, str]]:
        """`providers` of an answer: `[{"name", "outcome"}]`."""
        return [{"name": r.provider, "outcome": r.outcome} for r in self.results]

    def problem(self) -> ServiceError:
        """The error for a route nobody answered: the first failing provider's, annotated."""
        failure = self.failures[0]
        error = failure.error or UpstreamError(f"provider {failure.provider} could not answer")
        error.extra.update(self.extension(failure.provider))
        return error

    def annotate(self, error: NotFound) -> NotFound:
        error.extra.update(self.extension(None))
        return error

    def extension(self, provider: str | None) -> dict[str, Any]:
        extension: dict[str, Any] = {"providers": self.summary()}
        if provider is not None:
            extension["provider"] = provider
        return extension


class Router:
    """Asks the providers `names` (built on first use) in order, each within its limit."""

    def __init__(
        self,
        names: Sequence[str],
        providers: Callable[[], Sequence[Provider]],
        limiter: Callable[[], Limiter],
        *,
        max_wait: float,
        budget: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.names = tuple(names)
        self._providers_factory = providers
        self._providers: Sequence[Provider] | None = None
        self._limiter_factory = limiter
        self._limiter: Limiter | None = None
        self.max_wait = max_wait
        self.budget = budget
        self._clock = clock

    @property
    def providers(self) -> Sequence[Provider]:
        if self._providers is None:
            self._providers = self._providers_factory()
        return self._providers

    def provider(self, name: str) -> Provider:
        """The provider called `name` (one of `names`)."""
        return next(p for p in self.providers if p.name == name)

    @property
    def limiter(self) -> Limiter:
        if self._limiter is None:
            self._limiter = self._limiter_factory()
        return self._limiter

    def route(self, gtin: Gtin, state: ProviderState, spender: Spender | None = None) -> Route:
        """Ask each provider that serves `gtin`, in order, until one finds it.

        With a `spender`, each call is taken from the caller's budget first; a provider
        the budget cannot pay for is `over_budget` and not asked.
        """
        deadline = self._clock() + self.budget
        results: list[ProviderResult] = []
        for provider in self.providers:
            result = self._one(provider, gtin, state, deadline, spender)
            results.append(result)
            if result.outcome == "found":
                break
        return Route(tuple(results))

    def _one(
        self,
        provider: Provider,
        gtin: Gtin,
        state: ProviderState,
        deadline: float,
        spender: Spender | None = None,
    ) -> ProviderResult:
        name = provider.name
        if not provider.serves(gtin):
            return ProviderResult(name, "not_served")
        if name in state.misses:
            return ProviderResult(name, "not_found")
        blocked = state.blocked.get(name)
        if blocked is not None:
            from .providers.base import outcome_of  # noqa: PLC0415 - loaded with providers

            return ProviderResult(name, outcome_of(blocked), error=blocked)
        try:
            provider.prepare()
        except CredentialsNotConfigured as missing:  # no slot spent on a provider without keys
            return ProviderResult(name, "not_configured", error=missing)
        except UpstreamError:
            pass  # e.g. a malformed secret: the call below meets it and reports it as a call
        reservation: Any = None
        if spender is not None:
            try:
                reservation = spender.spend()
            except ClientBudgetExceeded as over:
                return ProviderResult(name, "over_budget", error=over)
        result = self._call(provider, gtin, deadline)
        if spender is not None and not result.answered:
            # Only answers count: a call refused (rate, quota) or failed costs nothing.
            spender.refund(reservation)
        return result

    def _call(self, provider: Provider, gtin: Gtin, deadline: float) -> ProviderResult:
        name = provider.name
        wait = max(0.0, min(self.max_wait, deadline - self._clock() - 1))
        try:
            self.limiter.acquire(name, provider.limit, wait)
        except UpstreamRateLimited as busy:
            return ProviderResult(name, "rate_limited", error=busy)
        except UpstreamError as down:
            return ProviderResult(name, "outage", error=down)
        return ask(provider, gtin, deadline)
