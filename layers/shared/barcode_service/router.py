"""The lookup router: asks product providers in order until one knows the code.

Pure routing: which provider serves a code, which are known to miss it, which the
health gate stops (provider_health.Gate: a live block, or a half-open breaker somebody
else is probing), the caller's budget and the upload pacing before every call, the
fleet-wide limiter, one call per provider, and a `Route` whose results carry everything
the lookup service needs (the product, its attribution, a quota's reset). Caching and
health writes are the lookup service's job; nothing here writes to the table except
the limiter's slot reservation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from . import deadline as request_deadline
from .errors import (
    ClientBudgetExceeded,
    CredentialsNotConfigured,
    DeadlineExceeded,
    ServiceError,
    UpstreamAccountError,
    UpstreamError,
    UpstreamQuotaExhausted,
    UpstreamRateLimited,
)
from .gtin import Gtin
from .provider_health import ProviderBlock
from .providers.base import Provider, ProviderNotFound, ProviderProduct, RateLimit
from .statuses import ProviderOutcome

MIN_CALL_SECONDS = 1.0
"""A provider is not asked with less time than this left: the call could only time out
(and would count against the provider's health)."""


class Limiter(Protocol):
    """The fleet-wide limiter (limiter.FleetLimiter) as the router uses it."""

    def acquire(self, provider: str, limit: RateLimit, max_wait: float) -> float:
        """Wait for a slot; UpstreamRateLimited if none within `max_wait` s."""
        ...


class Budget(Protocol):
    """A caller's daily budget of provider calls (budgets.ClientBudget)."""

    def spend(self) -> Any:
        """Take one call (a token for `refund`); ClientBudgetExceeded if none is left."""
        ...

    def refund(self, reservation: Any) -> None:
        """Give back a call taken with `spend` that was not made."""
        ...


class Pace(Protocol):
    """The upload workers' pacing (uploads.pacing): waits for the next slot of their share."""

    def take(self) -> None: ...


class Gate(Protocol):
    """The providers' health as one lookup read it (provider_health.Gate)."""

    def check(self, provider: str) -> ProviderBlock | None:
        """None when `provider` may be asked now, else the block that stops the call."""
        ...


@dataclass(frozen=True)
class ProviderResult:
    """What asking (or not asking) one provider about one code gave."""

    provider: str
    outcome: ProviderOutcome
    product: ProviderProduct | None = None
    country: str | None = None
    error: ServiceError | None = None
    called: bool = False  # True when a request went to the provider
    attribution: str | None = None  # the provider's, shown with its product
    # epoch s, when a used-up quota comes back (our own daily allowance, the provider's
    # quota, or the allowance an answer used up: see `ask`)
    quota_reset: int | None = None
    block: ProviderBlock | None = None  # the block that stopped it, or that its call opened

    @property
    def answered(self) -> bool:
        return self.outcome.answered

    def summary(self) -> dict[str, str]:
        """This provider in an answer's `providers` list."""
        entry = {"name": self.provider, "outcome": str(self.outcome)}
        if self.block is not None:
            entry["retry_at"] = self.block.retry_at()
        return entry


@dataclass(frozen=True)
class Route:
    """Every provider's result for one code, in LOOKUP_PROVIDERS order."""

    results: tuple[ProviderResult, ...]

    @property
    def found(self) -> ProviderResult | None:
        return next((r for r in self.results if r.outcome is ProviderOutcome.FOUND), None)

    @property
    def failures(self) -> tuple[ProviderResult, ...]:
        """Providers that serve the code but could not answer now."""
        return tuple(
            r
            for r in self.results
            if not r.answered and r.outcome is not ProviderOutcome.NOT_SERVED
        )

    @property
    def not_found(self) -> bool:
        """Every provider that serves the code said it does not know it."""
        return self.found is None and not self.failures

    @property
    def calls(self) -> int:
        """Requests sent to providers for this route."""
        return sum(1 for r in self.results if r.called)

    @property
    def serving(self) -> bool:
        """Whether any provider in use serves the code at all."""
        return any(r.outcome is not ProviderOutcome.NOT_SERVED for r in self.results)

    @property
    def country(self) -> str | None:
        return next((r.country for r in self.results if r.country), None)

    def summary(self) -> list[dict[str, str]]:
        """`providers` of an answer: `[{"name", "outcome", "retry_at"?}]`."""
        return [r.summary() for r in self.results]


def outcome_of(error: ServiceError) -> ProviderOutcome:
    """The outcome a provider's error stands for."""
    if isinstance(error, CredentialsNotConfigured):
        return ProviderOutcome.NOT_CONFIGURED
    if isinstance(error, UpstreamQuotaExhausted):
        return ProviderOutcome.QUOTA
    if isinstance(error, UpstreamAccountError):
        return ProviderOutcome.AUTH
    if isinstance(error, UpstreamRateLimited):
        return ProviderOutcome.RATE_LIMITED
    return ProviderOutcome.OUTAGE


def ask(
    provider: Provider, gtin: Gtin, deadline: float, now: float | None = None
) -> ProviderResult:
    """Call `provider` once for `gtin` and classify what came back (`now`: epoch s).

    `quota_reset` of a result: when a quota used up comes back (the provider's stated
    reset, else its documented schedule on the lookup's clock), or, on an answer, when
    the allowance that answer used up comes back (the provider blocked until then).
    """
    name = provider.name
    now = time.time() if now is None else now
    try:
        answer = provider.lookup(gtin, deadline)
    except CredentialsNotConfigured as error:
        return ProviderResult(name, ProviderOutcome.NOT_CONFIGURED, error=error)
    except UpstreamError as error:
        reset = None
        if isinstance(error, UpstreamQuotaExhausted):
            reset = _quota_reset(provider, error, now)
        return ProviderResult(name, outcome_of(error), error=error, called=True, quota_reset=reset)
    spent = answer.quota_spent_until
    reset = int(spent.timestamp()) if spent is not None else None
    if isinstance(answer, ProviderNotFound):
        return ProviderResult(
            name, ProviderOutcome.NOT_FOUND, country=answer.country, called=True, quota_reset=reset
        )
    return ProviderResult(
        name,
        ProviderOutcome.FOUND,
        product=answer,
        called=True,
        attribution=answer.attribution or provider.attribution,
        quota_reset=reset,
    )


def _quota_reset(provider: Provider, error: UpstreamQuotaExhausted, now: float) -> int:
    """When `provider`'s used-up quota comes back, in epoch s."""
    if error.stated:
        return int(error.reset_at.timestamp())
    return int(provider.quota_reset(datetime.fromtimestamp(now, UTC)).timestamp())


class Router:
    """Asks the providers `names` in order, each within its limit.

    `providers` and `limiter` are called at each route: the wiring passes `Lazy`
    factories, so they are built on the first lookup that needs them.
    """

    def __init__(
        self,
        names: Sequence[str],
        providers: Callable[[], Sequence[Provider]],
        limiter: Callable[[], Limiter],
        *,
        max_wait: float,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.names = tuple(names)
        self._providers = providers
        self._limiter = limiter
        self.max_wait = max_wait
        self.deadline = deadline  # seconds one route may take, every provider together
        self._clock = clock

    @property
    def providers(self) -> Sequence[Provider]:
        return self._providers()

    @property
    def limiter(self) -> Limiter:
        return self._limiter()

    def route(
        self,
        gtin: Gtin,
        gate: Gate,
        *,
        misses: frozenset[str] = frozenset(),
        budget: Budget | None = None,
        pace: Pace | None = None,
        now: float | None = None,
    ) -> Route:
        """Ask each provider that serves `gtin`, in order, until one finds it.

        `misses`: providers with a fresh "not found" of this code. With a `budget`, each
        call is taken from the caller's budget first (a provider it cannot pay for is
        `over_budget` and not asked); with a `pace`, each call waits for its slot. `now`
        (epoch s) dates a quota's reset.
        """
        # Within the request's own deadline too (a scan's late code, a batch's last rows).
        seconds = min(self.deadline, request_deadline.current().remaining())
        deadline = self._clock() + seconds
        now = time.time() if now is None else now
        results: list[ProviderResult] = []
        for provider in self.providers:
            result = self._one(provider, gtin, _Gates(gate, misses, budget, pace), deadline, now)
            results.append(result)
            if result.outcome is ProviderOutcome.FOUND:
                break
        return Route(tuple(results))

    def _one(
        self, provider: Provider, gtin: Gtin, gates: _Gates, deadline: float, now: float
    ) -> ProviderResult:
        name = provider.name
        if not provider.serves(gtin):
            return ProviderResult(name, ProviderOutcome.NOT_SERVED)
        if name in gates.misses:
            return ProviderResult(name, ProviderOutcome.NOT_FOUND)
        block = gates.health.check(name)
        if block is not None:
            return ProviderResult(name, block.outcome, error=block.error(now), block=block)
        if deadline - self._clock() < MIN_CALL_SECONDS:
            # Not asked: our own request is out of time, which says nothing of the provider.
            late = DeadlineExceeded(f"lookup provider {name} was not asked: no time was left")
            return ProviderResult(name, ProviderOutcome.OUTAGE, error=late)
        try:
            provider.prepare()
        except CredentialsNotConfigured as missing:  # no slot spent on a provider without keys
            return ProviderResult(name, ProviderOutcome.NOT_CONFIGURED, error=missing)
        except UpstreamError:
            pass  # e.g. a malformed secret: the call below meets it and reports it as a call
        reservation: Any = None
        if gates.budget is not None:
            try:
                reservation = gates.budget.spend()
            except ClientBudgetExceeded as over:
                return ProviderResult(name, ProviderOutcome.OVER_BUDGET, error=over)
        if gates.pace is not None:
            gates.pace.take()  # after the budget: a call the budget refuses takes no slot
        result = self._call(provider, gtin, deadline, now)
        if gates.budget is not None and not result.answered:
            # Only answers count: a call refused (rate, quota) or failed costs nothing.
            gates.budget.refund(reservation)
        return result

    def _call(self, provider: Provider, gtin: Gtin, deadline: float, now: float) -> ProviderResult:
        name = provider.name
        wait = max(0.0, min(self.max_wait, deadline - self._clock() - 1))
        try:
            self.limiter.acquire(name, provider.limit, wait)
        except UpstreamRateLimited as busy:
            return ProviderResult(name, ProviderOutcome.RATE_LIMITED, error=busy)
        except UpstreamQuotaExhausted as spent:  # the fleet's own daily allowance is used
            reset = _quota_reset(provider, spent, now)
            return ProviderResult(name, ProviderOutcome.QUOTA, error=spent, quota_reset=reset)
        except UpstreamError as down:
            return ProviderResult(name, ProviderOutcome.OUTAGE, error=down)
        return ask(provider, gtin, deadline, now)


@dataclass(frozen=True)
class _Gates:
    """What stands between one route and each provider call, in the order it is met."""

    health: Gate
    misses: frozenset[str]
    budget: Budget | None
    pace: Pace | None
