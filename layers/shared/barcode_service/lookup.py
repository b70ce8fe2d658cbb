"""Product lookup: catalog -> cache -> single-flight -> route -> remember.

Cheapest first, so that provider quota is only spent when nothing else can answer:
validate -> restricted prefix -> one DynamoDB read (catalog, cached answer, lease, and
per provider its health and its own "not found") -> catalog -> fresh cache ->
single-flight lease -> the router, which asks the providers in LOOKUP_PROVIDERS order
(each within its fleet-wide limit, past its health gate) until one knows the code ->
remember: the answer, each provider's own "not found", and what the calls say about
each provider's health (provider_health.py). `not_found` is cached only when every
provider that serves the code said so; a provider that could not answer leaves a 503
naming it (or a stale entry).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .budgets import Budgets, ClientBudget
from .cache import CachedLookup, LookupStore, Snapshot
from .canonical import canonical_gtin
from .community.pending import answers_before_community, pending_answer
from .errors import (
    InvalidGtin,
    NotServed,
    ServiceError,
    UpstreamUnavailable,
)
from .gtin import Gtin
from .lookup_outcome import LookupOutcome, ProviderCall
from .observability import count, count_by, logger
from .product import Product, ProductFields, product_not_found
from .provider_health import BreakerPolicy, Gate, HealthStore, ProviderBlock
from .route_problem import route_problem, wait_for
from .router import Budget, Pace, ProviderResult, Route, Router
from .settings import Settings
from .statuses import ProviderOutcome


@dataclass(frozen=True)
class LookupPolicy:
    """The settings a lookup uses: cache lifetimes, the lease, the breaker, the GS1 region."""

    found_ttl_seconds: int
    not_found_ttl_seconds: int
    stale_grace_seconds: int
    lease_seconds: float
    lease_wait_seconds: float
    breaker: BreakerPolicy
    gs1_rcn_region: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> LookupPolicy:
        return cls(
            found_ttl_seconds=settings.found_ttl_seconds,
            not_found_ttl_seconds=settings.not_found_ttl_seconds,
            stale_grace_seconds=settings.stale_grace_seconds,
            lease_seconds=settings.lease_seconds,
            lease_wait_seconds=settings.lease_wait_seconds,
            breaker=BreakerPolicy(
                failures_to_open=settings.provider_failures_to_open,
                outage_seconds=settings.provider_outage_seconds,
                probe_seconds=settings.upstream_deadline,
            ),
            gs1_rcn_region=settings.gs1_rcn_region,
        )


class _Trace:
    """What one lookup has done so far, the gates its provider calls pass, and who asks."""

    def __init__(self, budget: Budget | None, pace: Pace | None, caller: str | None = None) -> None:
        self.calls: list[ProviderCall] = []
        self.blocked: ProviderBlock | None = None
        self.budget = budget
        self.pace = pace
        self.caller = caller  # callers.Caller.key: answered its own pending contributions

    def outcome(self, result: Product | ServiceError) -> LookupOutcome:
        return LookupOutcome(result, tuple(self.calls), self.blocked)


class LookupService:
    """Answers product lookups; shared by the API, scans and the upload worker."""

    def __init__(
        self,
        policy: LookupPolicy,
        store: LookupStore,
        router: Router,
        health: HealthStore,
        *,
        budgets: Budgets | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.store = store
        self.router = router
        self.health = health
        self.budgets = budgets
        self._clock = clock
        self._sleep = sleep

    def budget_for(self, client: str | None) -> ClientBudget | None:
        """The daily budget of a caller (a callers.Caller.key); None when nobody is known."""
        if not client or self.budgets is None:
            return None
        return self.budgets.for_client(client)

    @property
    def provider_names(self) -> tuple[str, ...]:
        return self.router.names

    def canonical_gtin(self, code: str, format_name: str | None = None) -> Gtin:
        """The GTIN behind a scanned text, parsed with this service's GS1 region."""
        return canonical_gtin(code, format_name, rcn_region=self.policy.gs1_rcn_region)

    def lookup(
        self,
        code: str | Gtin,
        format_name: str | None = None,
        *,
        budget: Budget | None = None,
        pace: Pace | None = None,
        caller: str | None = None,
    ) -> Product:
        """Find one product; raises NotFound, InvalidGtin or an upstream ServiceError.

        `code` is anything a scanner hands over (see canonical.py) or a parsed Gtin;
        `format_name` is the scanner's symbology name, if it gave one. Provider calls
        are paid from `budget` (ClientBudgetExceeded when it is spent) and wait for
        `pace` (upload workers); cache and catalog answers are free and never wait.
        `caller` (a callers.Caller.key) is answered its own pending contribution.
        """
        if not isinstance(code, Gtin):
            code = self.canonical_gtin(code, format_name)
        return self._lookup(code, _Trace(budget, pace, caller))

    def resolve(
        self,
        code: str | Gtin,
        format_name: str | None = None,
        *,
        budget: Budget | None = None,
        pace: Pace | None = None,
        caller: str | None = None,
    ) -> LookupOutcome:
        """`lookup`, saying what happened: the product or problem is in the outcome.

        Only a bad `format_name` raises (InvalidParameter): it is the caller's mistake.
        """
        if not isinstance(code, Gtin):
            try:
                code = self.canonical_gtin(code, format_name)
            except InvalidGtin as error:
                return LookupOutcome(error)
        trace = _Trace(budget, pace, caller)
        try:
            return trace.outcome(self._lookup(code, trace))
        except ServiceError as error:
            return trace.outcome(error)

    # --- catalog, cache, single flight ----------------------------------------------------

    def _snapshot(self, gtin: Gtin) -> Snapshot:
        return self.store.snapshot(gtin.gtin14, self._clock(), self.provider_names)

    def _lookup(self, gtin: Gtin, trace: _Trace) -> Product:
        if gtin.restricted:
            raise product_not_found(gtin, gtin.restriction_reason(), None, "catalog")
        snapshot = self._snapshot(gtin)
        now = int(self._clock())
        if snapshot.catalog is not None:
            count("CatalogHit")
            return Product(gtin, snapshot.catalog, "catalog", now)
        own = pending_answer(gtin, snapshot.community, trace.caller, self.provider_names, now)
        cached = snapshot.cached
        if cached is not None and cached.is_fresh(self._clock()):
            if own is not None and not answers_before_community(cached, self.provider_names):
                return own
            count("CacheHit")
            return self._from_cache(gtin, cached, stale=False)
        if own is not None:
            return own  # nothing is spent on providers for it, and nothing is cached
        count("CacheMiss")
        return self._single_flight(gtin, cached, snapshot, trace)

    def _from_cache(self, gtin: Gtin, cached: CachedLookup, *, stale: bool) -> Product:
        if cached.status != "found":
            raise product_not_found(
                gtin, f"no product is known for {gtin.code}", cached.fields.country, "cache"
            )
        return Product(
            gtin,
            cached.fields,
            "cache",
            cached.fetched_at,
            stale=stale,
            provider=cached.provider,
            attribution=cached.attribution,
            details=cached.details,
            fresh_until=cached.fresh_until,
        )

    def _stale_or_raise(
        self,
        gtin: Gtin,
        cached: CachedLookup | None,
        error: ServiceError,
        trace: _Trace,
        blocked: ProviderBlock | None = None,
    ) -> Product:
        """The stale entry if there is one; else `error` (and the block behind it)."""
        if cached is not None:
            count("StaleServed")
            logger.info("serving a stale entry", extra={"gtin": gtin.gtin14, "reason": error.code})
            return self._from_cache(gtin, cached, stale=True)
        trace.blocked = blocked
        raise error

    def _single_flight(
        self, gtin: Gtin, cached: CachedLookup | None, snapshot: Snapshot, trace: _Trace
    ) -> Product:
        owner = uuid.uuid4().hex
        deadline = self._clock() + self.policy.lease_wait_seconds
        lease_held = snapshot.lease_held
        while True:
            if not lease_held:
                try:
                    acquired = self.store.acquire_lease(
                        gtin.gtin14, owner, self.policy.lease_seconds, self._clock()
                    )
                except UpstreamUnavailable as table_down:  # the table cannot take writes
                    return self._stale_or_raise(gtin, cached, table_down, trace)
                if acquired:
                    try:
                        # Read again under the lease: another caller may have answered and
                        # let go of it between our read and our lease (one read per miss).
                        snapshot = self._snapshot(gtin)
                        if snapshot.cached is not None and snapshot.cached.is_fresh(self._clock()):
                            count("SingleFlightWaitHit")
                            return self._from_cache(gtin, snapshot.cached, stale=False)
                        return self._ask_providers(gtin, cached, snapshot, trace)
                    finally:
                        self.store.release_lease(gtin.gtin14, owner)
            # Someone else is asking the providers for this code: wait for their answer.
            if self._clock() >= deadline:
                busy = UpstreamUnavailable(
                    f"a lookup of {gtin.code} is already in progress; retry shortly", retry_after=1
                )
                return self._stale_or_raise(gtin, cached, busy, trace)
            self._sleep(0.1)
            snapshot = self._snapshot(gtin)
            if snapshot.cached is not None and snapshot.cached.is_fresh(self._clock()):
                count("SingleFlightWaitHit")
                return self._from_cache(gtin, snapshot.cached, stale=False)
            lease_held = snapshot.lease_held

    # --- the providers ---------------------------------------------------------------------

    def _ask_providers(
        self, gtin: Gtin, cached: CachedLookup | None, snapshot: Snapshot, trace: _Trace
    ) -> Product:
        gate = Gate(snapshot.health, self.health, self.policy.breaker, self._clock())
        route = self.router.route(
            gtin,
            gate,
            misses=frozenset(snapshot.misses),
            budget=trace.budget,
            pace=trace.pace,
            now=gate.now,
        )
        route = Route(tuple(self._settle(result, gate, trace) for result in route.results))
        found = route.found
        if found is not None and found.product is not None:
            return self._store_found(gtin, found)
        if route.not_found:
            return self._store_not_found(gtin, route)
        self._remember_misses(gtin, route)
        failure = route.failures[0]
        problem = route_problem(failure, route, gate.now)
        return self._stale_or_raise(
            gtin, cached, problem, trace, wait_for(failure, problem, self._clock())
        )

    def _settle(self, result: ProviderResult, gate: Gate, trace: _Trace) -> ProviderResult:
        """Record what one provider's part says about its health; count and trace it."""
        opened = gate.record(result)
        if opened is not None:
            result = dataclasses.replace(result, block=opened)
        if result.called:
            count("UpstreamCall")
            count_by("ProviderCall", provider=result.provider, outcome=result.outcome)
            error = result.error if not result.answered else None
            trace.calls.append(
                ProviderCall(result.provider, error.code if error else result.outcome)
            )
            if error is not None:
                count("UpstreamError")
                count_by("UpstreamErrorByKind", kind=error.code)
        elif result.outcome is ProviderOutcome.OVER_BUDGET:
            count("ClientBudgetExceeded")
        elif result.outcome is ProviderOutcome.NOT_CONFIGURED:
            logger.warning("lookup provider not configured", extra={"provider": result.provider})
        return result

    # --- remember --------------------------------------------------------------------------

    def _store_found(self, gtin: Gtin, found: ProviderResult) -> Product:
        assert found.product is not None
        now = int(self._clock())
        entry = CachedLookup(
            "found",
            found.product.fields(),
            now,
            now + self.policy.found_ttl_seconds,
            provider=found.provider,
            attribution=found.attribution,
            details=dict(found.product.details),
        )
        self._remember(gtin, entry)
        return Product(
            gtin,
            entry.fields,
            "upstream",
            now,
            provider=found.provider,
            attribution=found.attribution,
            details=entry.details,
            fresh_until=entry.fresh_until,
        )

    def _store_not_found(self, gtin: Gtin, route: Route) -> Product:
        country = route.country
        if not route.serving:
            raise self._not_served(gtin, route)
        if route.calls:
            now = int(self._clock())
            fresh_until = now + self.policy.not_found_ttl_seconds
            self._remember(
                gtin, CachedLookup("not_found", ProductFields(country=country), now, fresh_until)
            )
        detail = f"no product is known for {gtin.code}"
        missing = product_not_found(gtin, detail, country, "upstream" if route.calls else "cache")
        raise missing.copy(extra={"providers": route.summary()})

    def _not_served(self, gtin: Gtin, route: Route) -> NotServed:
        """No provider in this service's list can know `gtin`: nobody asked, nothing kept."""
        names = ", ".join(self.provider_names)
        missing = product_not_found(
            gtin, f"no lookup provider in use ({names}) serves {gtin.code}", None, "upstream"
        )
        served = NotServed(missing.detail, extra=missing.extra)
        return served.copy(extra={"providers": route.summary()})

    def _remember_misses(self, gtin: Gtin, route: Route) -> None:
        """Each provider's own "not found" of a code nobody could answer for."""
        fresh_until = int(self._clock()) + self.policy.not_found_ttl_seconds
        for result in route.results:
            if result.outcome is ProviderOutcome.NOT_FOUND and result.called:
                try:
                    self.store.put_miss(gtin.gtin14, result.provider, fresh_until)
                except UpstreamUnavailable:
                    count("CacheWriteFailed")

    def _remember(self, gtin: Gtin, entry: CachedLookup) -> None:
        """Cache a provider answer; a failed write must not throw away a paid answer."""
        try:
            self.store.put_result(gtin.gtin14, entry, stale_grace=self.policy.stale_grace_seconds)
        except UpstreamUnavailable:
            count("CacheWriteFailed")
            logger.warning("could not cache an upstream answer", extra={"gtin": gtin.gtin14})
