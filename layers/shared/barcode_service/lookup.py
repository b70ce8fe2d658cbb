"""Product lookup: validation, catalog, cache, single-flight, then the provider router.

Order of a lookup, cheapest first, so that provider quota is only spent when
nothing else can answer: validate -> restricted prefix -> one DynamoDB read
(catalog, cached answer, lease, and per provider: its block and its own "not
found") -> catalog -> fresh cache -> single-flight lease -> the router, which asks
the providers in LOOKUP_PROVIDERS order (each within its fleet-wide limit) until
one knows the code. `not_found` is cached only when every provider that serves
the code said so; a provider that could not answer leaves a 503 naming it (or a
stale entry). Each provider keeps its own block (quota, account, outage) and its
own negative cache.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from .budgets import Budgets, ClientBudget
from .cache import (
    PRODUCT_FIELDS,
    CachedLookup,
    DynamoLookupStore,
    LookupStore,
    QuotaBlock,
    Snapshot,
)
from .canonical import canonical_gtin
from .errors import (
    ACCOUNT_BLOCKS,
    CredentialsNotConfigured,
    InvalidGtin,
    InvalidParam,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    ProviderNotConfigured,
    ServiceError,
    UpstreamAccountError,
    UpstreamError,
    UpstreamQuotaExhausted,
    UpstreamRateLimited,
    UpstreamUnavailable,
    account_block,
)
from .gtin import Gtin
from .observability import count, count_by, logger
from .router import ProviderState, Route, Router, Spender
from .settings import Settings

if TYPE_CHECKING:
    # The provider stack (requests, Secrets Manager, pydantic models) is imported
    # only when a lookup misses every cache: see build_lookup_service.
    from .baichuan import BaichuanClient
    from .limiter import FleetLimiter
    from .providers.base import Provider, ProviderResult

Source = Literal["upstream", "cache", "catalog"]
MAX_BATCH = 100
CATALOG_MAX_AGE = 300
"""How long a client may keep a catalog answer: an operator's edit shows within it."""

# The paid provider (Baichuan) as outcomes and metrics name it.
PROVIDER = "baichuan"
RowStatus = Literal["found", "not_found", "invalid_gtin", "error"]


@dataclass(frozen=True)
class Product:
    """A found product as the API shows it."""

    gtin: Gtin
    fields: dict[str, str | None]
    source: Source
    fetched_at: int
    stale: bool = False
    provider: str | None = None  # None for catalog items
    attribution: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    fresh_until: int | None = None  # epoch s; None: a catalog item (CATALOG_MAX_AGE)

    def max_age(self, now: float) -> int:
        """Seconds a client may keep this answer: what is left of the cache's freshness
        (0 for a stale answer; CATALOG_MAX_AGE for an operator's catalog item)."""
        if self.stale:
            return 0
        if self.fresh_until is None:
            return CATALOG_MAX_AGE
        return max(0, int(self.fresh_until - now))

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"gtin": self.gtin.gtin14, "code": self.gtin.code}
        body["format"] = self.gtin.format
        body.update({name: self.fields.get(name) for name in PRODUCT_FIELDS})
        body["gs1_prefix"] = _prefix(self.gtin)
        body["source"] = self.source
        body["provider"] = self.provider
        body["attribution"] = self.attribution
        body["details"] = dict(self.details)
        body["fetched_at"] = datetime.fromtimestamp(self.fetched_at, UTC).isoformat()
        if self.stale:
            body["stale"] = True
        return body


def _prefix(gtin: Gtin) -> dict[str, str] | None:
    if gtin.gs1_prefix is None:
        return None
    return {"prefix": gtin.gs1_prefix.prefix, "issuer": gtin.gs1_prefix.issuer}


def product_not_found(gtin: Gtin, detail: str, country: str | None, source: Source) -> NotFound:
    """The 404 problem for a code nobody knows, with its GS1 prefix facts."""
    extra: dict[str, Any] = {
        "gtin": gtin.gtin14,
        "gs1_prefix": _prefix(gtin),
        "country": country,
        "source": source,
    }
    if gtin.measure is not None:
        extra["variable_measure"] = gtin.measure.to_dict()
    return NotFound(detail, extra=extra)


@dataclass(frozen=True)
class ProviderCall:
    """One call a lookup made to a provider, and what came of it."""

    provider: str
    outcome: str  # "found", "not_found", or the problem code of the failure


@dataclass(frozen=True)
class ProviderBlock:
    """A provider that may not be called before `until` (epoch s), and the problem why."""

    provider: str
    code: str
    until: float


@dataclass(frozen=True)
class LookupOutcome:
    """What one lookup did: its product or its problem, the provider calls it made, and
    the provider block that kept it from an answer (None when nothing blocked it)."""

    result: Product | ServiceError
    calls: tuple[ProviderCall, ...] = ()
    blocked: ProviderBlock | None = None

    @property
    def product(self) -> Product | None:
        return self.result if isinstance(self.result, Product) else None

    @property
    def error(self) -> ServiceError | None:
        return self.result if isinstance(self.result, ServiceError) else None

    @property
    def status(self) -> RowStatus:
        if isinstance(self.result, Product):
            return "found"
        if isinstance(self.result, InvalidGtin):
            return "invalid_gtin"
        if isinstance(self.result, NotFound):
            return "not_found"
        return "error"

    @property
    def called_provider(self) -> bool:
        """Whether any provider was called (and its quota spent)."""
        return bool(self.calls)

    def answer(self) -> dict[str, Any]:
        """`status` plus the product, or plus the problem document."""
        if isinstance(self.result, Product):
            return {"status": "found", "product": self.result.to_dict()}
        return {"status": self.status, "error": self.result.to_problem()}


class _Trace:
    """What one lookup has done so far (and whose budget pays); becomes its LookupOutcome."""

    def __init__(self, spender: Spender | None = None) -> None:
        self.calls: list[ProviderCall] = []
        self.blocked: ProviderBlock | None = None
        self.spender = spender

    def outcome(self, result: Product | ServiceError) -> LookupOutcome:
        return LookupOutcome(result, tuple(self.calls), self.blocked)


def _count_upstream_error(error: ServiceError) -> None:
    count("UpstreamError")
    count_by("UpstreamErrorByKind", kind=error.code)


class LookupService:
    """Answers product lookups; shared by the API and the upload worker."""

    def __init__(
        self,
        settings: Settings,
        store: LookupStore,
        router: Router,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        budgets: Budgets | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.router = router
        self._clock = clock
        self._sleep = sleep
        self.budgets = budgets

    def budget_for(self, client: str | None) -> ClientBudget | None:
        """The budget of a caller (a callers.Caller.key); None when nobody is known."""
        if not client or self.budgets is None:
            return None
        return self.budgets.for_client(client)

    @property
    def provider_names(self) -> tuple[str, ...]:
        return self.router.names

    def lookup(
        self,
        code: str | Gtin,
        format_name: str | None = None,
        *,
        budget: Spender | None = None,
    ) -> Product:
        """Find one product; raises NotFound, InvalidGtin or an upstream ServiceError.

        `code` is anything a scanner hands over (see canonical.py) or a parsed Gtin;
        `format_name` is the scanner's symbology name, if it gave one. Provider calls
        are paid from `budget` (ClientBudgetExceeded when it is spent); cache and
        catalog answers are free.
        """
        if not isinstance(code, Gtin):
            code = self.canonical_gtin(code, format_name)
        return self._lookup(code, _Trace(budget))

    def canonical_gtin(self, code: str, format_name: str | None = None) -> Gtin:
        """The GTIN behind a scanned text, parsed with this service's GS1 region."""
        return canonical_gtin(code, format_name, rcn_region=self.settings.gs1_rcn_region)

    def resolve(
        self,
        code: str | Gtin,
        format_name: str | None = None,
        *,
        budget: Spender | None = None,
    ) -> LookupOutcome:
        """`lookup`, saying what happened: the product or problem is in the outcome.

        Only a bad `format_name` raises (InvalidParameter): it is the caller's mistake.
        """
        if not isinstance(code, Gtin):
            try:
                code = self.canonical_gtin(code, format_name)
            except InvalidGtin as error:
                return LookupOutcome(error)
        return self.resolve_gtin(code, budget=budget)

    def resolve_gtin(self, gtin: Gtin, *, budget: Spender | None = None) -> LookupOutcome:
        """`resolve` of a code already parsed."""
        trace = _Trace(budget)
        try:
            return trace.outcome(self._lookup(gtin, trace))
        except ServiceError as error:
            return trace.outcome(error)

    def _snapshot(self, gtin: Gtin) -> Snapshot:
        return self.store.snapshot(gtin.gtin14, self._clock(), self.provider_names)

    def _lookup(self, gtin: Gtin, trace: _Trace) -> Product:
        if gtin.restricted:
            raise product_not_found(gtin, gtin.restriction_reason(), None, "catalog")
        snapshot = self._snapshot(gtin)
        if snapshot.catalog is not None:
            count("CatalogHit")
            return Product(gtin, snapshot.catalog, "catalog", int(self._clock()))
        cached = snapshot.cached
        if cached is not None and cached.is_fresh(self._clock()):
            count("CacheHit")
            return self._from_cache(gtin, cached, stale=False)
        count("CacheMiss")
        return self._single_flight(gtin, cached, snapshot, trace)

    def _from_cache(self, gtin: Gtin, cached: CachedLookup, *, stale: bool) -> Product:
        if cached.status != "found":
            raise product_not_found(
                gtin,
                f"no product is known for {gtin.code}",
                cached.fields.get("country"),
                "cache",
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

    def _serve_stale_or_raise(
        self,
        gtin: Gtin,
        cached: CachedLookup | None,
        error: ServiceError,
        trace: _Trace,
        *,
        until: float | None = None,
        provider: str = "",
    ) -> Product:
        """The stale entry if there is one; else `error`, noted as `provider`'s block if
        `until`."""
        if cached is not None:
            count("StaleServed")
            logger.info("serving a stale entry", extra={"gtin": gtin.gtin14, "reason": error.code})
            return self._from_cache(gtin, cached, stale=True)
        if until is not None:
            trace.blocked = ProviderBlock(provider, error.code, until)
        raise error

    def _blocked_error(self, block: QuotaBlock) -> ServiceError:
        """The error a recorded block of `block.provider` answers with, on our clock."""
        provider = block.provider
        retry_after = max(1, int(block.until - self._clock()))
        if block.code == UpstreamQuotaExhausted.code:
            now = datetime.fromtimestamp(self._clock(), UTC)
            return UpstreamQuotaExhausted(
                f"the daily quota of lookup provider {provider} is used up; "
                "cached products still answer",
                reset_at=datetime.fromtimestamp(block.until, UTC),
                now=now,
            )
        if block.code == UpstreamRateLimited.code:
            return UpstreamRateLimited(
                f"lookup provider {provider} asked us to slow down", retry_after=retry_after
            )
        if block.code not in ACCOUNT_BLOCKS:
            return UpstreamUnavailable(
                f"lookup provider {provider} is failing; it is left alone for a while",
                retry_after=retry_after,
            )
        error_class, _ = account_block(block.code)
        return error_class(
            f"the account at lookup provider {provider} needs an operator's attention",
            retry_after=retry_after,
        )

    def _single_flight(
        self, gtin: Gtin, cached: CachedLookup | None, snapshot: Snapshot, trace: _Trace
    ) -> Product:
        owner = uuid.uuid4().hex
        deadline = self._clock() + self.settings.lease_wait_seconds
        lease_held = snapshot.lease_held
        while True:
            if not lease_held:
                try:
                    acquired = self.store.acquire_lease(
                        gtin.gtin14, owner, self.settings.lease_seconds, self._clock()
                    )
                except UpstreamUnavailable as table_down:  # the table cannot take writes
                    return self._serve_stale_or_raise(gtin, cached, table_down, trace)
                if acquired:
                    try:
                        return self._ask_providers(gtin, cached, snapshot, trace)
                    finally:
                        self.store.release_lease(gtin.gtin14, owner)
            # Someone else is asking the providers for this code: wait for their answer.
            if self._clock() >= deadline:
                busy = UpstreamUnavailable(
                    f"a lookup of {gtin.code} is already in progress; retry shortly", retry_after=1
                )
                return self._serve_stale_or_raise(gtin, cached, busy, trace)
            self._sleep(0.1)
            snapshot = self._snapshot(gtin)
            if snapshot.cached is not None and snapshot.cached.is_fresh(self._clock()):
                count("SingleFlightWaitHit")
                return self._from_cache(gtin, snapshot.cached, stale=False)
            lease_held = snapshot.lease_held

    def _ask_providers(
        self, gtin: Gtin, cached: CachedLookup | None, snapshot: Snapshot, trace: _Trace
    ) -> Product:
        state = ProviderState(
            misses=frozenset(snapshot.misses),
            blocked={name: self._blocked_error(b) for name, b in snapshot.blocks.items()},
        )
        route = self.router.route(gtin, state, trace.spender)
        blocked_until = {name: float(b.until) for name, b in snapshot.blocks.items()}
        for result in route.results:
            until = self._note(result)
            if until is not None:
                blocked_until[result.provider] = until
            if result.called:
                error = result.error
                code = error.code if error is not None and not result.answered else None
                trace.calls.append(ProviderCall(result.provider, code or result.outcome))
        found = route.found
        if found is not None and found.product is not None:
            return self._store_found(gtin, found)
        if route.not_found:
            return self._store_not_found(gtin, route)
        self._remember_misses(gtin, route)
        problem = route.problem()
        if not problem.retry_after:  # e.g. a garbled answer: try after the provider's pause
            problem.retry_after = max(1, self.settings.provider_outage_seconds)
        failure = route.failures[0]
        # A quota or account block, or the caller's spent budget, is something an upload
        # may wait out (LookupOutcome.blocked).
        wait_until: float | None = None
        if failure.outcome in ("quota", "auth"):
            wait_until = blocked_until.get(failure.provider)
        elif failure.outcome == "over_budget":
            wait_until = self._clock() + (problem.retry_after or 1)
        return self._serve_stale_or_raise(
            gtin, cached, problem, trace, until=wait_until, provider=failure.provider
        )

    def _note(self, result: ProviderResult) -> float | None:
        """Metrics, logs and the provider's own block for what one provider did: the block's
        end (epoch s) if this recorded one."""
        if result.called:
            count("UpstreamCall")
            count_by("ProviderCall", provider=result.provider, outcome=result.outcome)
        error = result.error
        if error is None or not result.called:
            if result.outcome == "over_budget":
                count("ClientBudgetExceeded")
            if result.outcome == "not_configured":
                logger.warning(
                    "lookup provider not configured", extra={"provider": result.provider}
                )
            return None
        _count_upstream_error(error)
        now = self._clock()
        until: float | None = None
        if isinstance(error, UpstreamQuotaExhausted):
            count("UpstreamQuotaExhausted")
            provider = self.router.provider(result.provider)
            until = provider.quota_reset(datetime.fromtimestamp(now, UTC)).timestamp()
            logger.error(
                "lookup provider daily quota used up",
                extra={"provider": result.provider, "reset_at": str(until)},
            )
        elif isinstance(error, UpstreamAccountError):
            logger.error(
                "lookup provider account problem",
                extra={"provider": result.provider, "code": error.code},
            )
            until = now + account_block(error.code)[1]
        else:
            logger.warning(
                "lookup provider failed", extra={"provider": result.provider, "code": error.code}
            )
            if isinstance(error, UpstreamRateLimited):
                until = now + (error.retry_after or self.settings.provider_outage_seconds)
            elif self.settings.provider_outage_seconds:
                until = now + self.settings.provider_outage_seconds
        if until is not None:
            self._block(result.provider, error, until)
        return until

    def _block(self, provider: str, error: ServiceError, until: float) -> None:
        """Record a provider's block; the answer stands even if the table refuses it."""
        code = error.code
        if isinstance(error, UpstreamError) and not isinstance(
            error, UpstreamAccountError | UpstreamQuotaExhausted | UpstreamRateLimited
        ):
            code = UpstreamUnavailable.code
        try:
            self.store.block_upstream(code, int(until), provider)
        except UpstreamUnavailable:
            logger.warning("could not record a provider block", extra={"provider": provider})
        if isinstance(error, UpstreamQuotaExhausted):
            # The answer's Retry-After runs to the reset on our clock, as the block does.
            now = datetime.fromtimestamp(self._clock(), UTC)
            reset = UpstreamQuotaExhausted(
                error.detail, reset_at=datetime.fromtimestamp(int(until), UTC), now=now
            )
            error.retry_after, error.extra["reset_at"] = (
                reset.retry_after,
                reset.reset_at.isoformat(),
            )
            error.reset_at = reset.reset_at

    def _store_found(self, gtin: Gtin, found: ProviderResult) -> Product:
        assert found.product is not None
        product = found.product
        provider = self.router.provider(found.provider)
        fields = product.fields()
        details = dict(product.details)
        self._remember(
            gtin,
            "found",
            fields,
            provider=found.provider,
            attribution=provider.attribution,
            details=details,
        )
        return Product(
            gtin,
            fields,
            "upstream",
            int(self._clock()),
            provider=found.provider,
            attribution=provider.attribution,
            details=details,
            fresh_until=int(self._clock()) + self.settings.found_ttl_seconds,
        )

    def _store_not_found(self, gtin: Gtin, route: Route) -> Product:
        country = route.country
        if route.calls:
            self._remember(gtin, "not_found", {"country": country})
        serving = [r.provider for r in route.results if r.outcome != "not_served"]
        detail = (
            f"no product is known for {gtin.code}"
            if serving
            else f"no lookup provider in use serves {gtin.code}"
        )
        source: Source = "upstream" if route.calls else "cache"
        raise route.annotate(product_not_found(gtin, detail, country, source))

    def _remember_misses(self, gtin: Gtin, route: Route) -> None:
        """Each provider's own "not found" of a code nobody could answer for."""
        fresh_until = int(self._clock()) + self.settings.not_found_ttl_seconds
        for result in route.results:
            if result.outcome == "not_found" and result.called:
                try:
                    self.store.put_miss(gtin.gtin14, result.provider, fresh_until)
                except UpstreamUnavailable:
                    count("CacheWriteFailed")

    def _remember(
        self,
        gtin: Gtin,
        status: str,
        fields: dict[str, str | None],
        *,
        provider: str | None = None,
        attribution: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Cache a provider answer; a failed write must not throw away a paid answer."""
        settings = self.settings
        fresh_for = (
            settings.found_ttl_seconds if status == "found" else settings.not_found_ttl_seconds
        )
        try:
            self.store.put_result(
                gtin.gtin14,
                status,
                fields,
                fresh_for=fresh_for,
                stale_grace=settings.stale_grace_seconds,
                now=self._clock(),
                provider=provider,
                attribution=attribution,
                details=details,
            )
        except UpstreamUnavailable:
            count("CacheWriteFailed")
            logger.warning("could not cache an upstream answer", extra={"gtin": gtin.gtin14})

    def lookup_many(
        self, codes: Any, workers: int = 4, *, budget: Spender | None = None
    ) -> list[dict[str, Any]]:
        """One result row per code, in request order; each distinct GTIN is looked up once.

        A code the `budget` cannot pay for is an `error` row with the 429
        `client_budget_exceeded` problem; the other rows still answer.
        """
        if not isinstance(codes, list) or not codes:
            raise InvalidParameter("'codes' must be a non-empty list of codes", field="codes")
        if len(codes) > MAX_BATCH:
            raise PayloadTooLarge(
                f"at most {MAX_BATCH} codes per request; got {len(codes)}", field="codes"
            )
        wrong = [
            InvalidParam(f"codes[{index}]", "must be a string (or a whole number) of the code")
            for index, raw in enumerate(codes)
            if isinstance(raw, bool) or not isinstance(raw, str | int)
        ]
        if wrong:
            # A null or an object is the caller's mistake, not a code to report on.
            raise InvalidParameter(
                "each code must be a string of digits", invalid_params=wrong[:MAX_BATCH]
            )
        entries = [self._batch_key(raw) for raw in codes]
        distinct: dict[str, Gtin] = {}
        for _, parsed in entries:
            if isinstance(parsed, Gtin):
                distinct.setdefault(parsed.gtin14, parsed)
        outcomes: dict[str, LookupOutcome] = {}
        if distinct:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(distinct)))) as pool:
                answers = pool.map(
                    lambda gtin: self.resolve_gtin(gtin, budget=budget), distinct.values()
                )
                outcomes = dict(zip(distinct, answers, strict=True))
        return [
            {"code": text, **(outcomes[p.gtin14] if isinstance(p, Gtin) else p).answer()}
            for text, p in entries
        ]

    def _batch_key(self, raw: Any) -> tuple[str, Gtin | LookupOutcome]:
        """(the code as text, its parsed GTIN or its invalid_gtin outcome)."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            return str(raw), LookupOutcome(InvalidGtin("each code must be a string of digits"))
        try:
            return raw, self.canonical_gtin(raw)
        except InvalidGtin as error:
            return raw, LookupOutcome(error)


def build_lookup_service(settings: Settings, *, uploads: bool = False) -> LookupService:
    """The service wired to the real table, secret, limiter and providers (built lazily).

    `uploads`: the upload workers' provider list (UPLOAD_LOOKUP_PROVIDERS) and wait.
    The providers, their HTTP stack and the credentials store are imported and built
    on the first lookup that has to ask a provider; cache and catalog hits never load
    them.
    """
    names = settings.provider_names(uploads=uploads)

    def client() -> BaichuanClient:
        # Lazy: requests, Powertools Parameters and the credential models cost ~40 ms
        # at import, and only a miss in the catalog and the cache needs them.
        from .baichuan import BaichuanClient  # noqa: PLC0415
        from .credentials import SecretStore  # noqa: PLC0415

        secrets = SecretStore(settings.secret_id, settings.secret_max_age)

        def keys(refresh: bool) -> tuple[str, str]:
            try:
                credentials = secrets.lookup(refresh)
            except CredentialsNotConfigured as missing:
                raise _not_configured("baichuan") from missing
            return credentials.api_key.get_secret_value(), credentials.secret_key.get_secret_value()

        return BaichuanClient(settings.lookup_api_url, keys, policy=settings.retry_policy())

    def providers() -> list[Provider]:
        from .providers import build_providers  # noqa: PLC0415

        return build_providers(names, settings, client)

    def limiter() -> FleetLimiter:
        from .limiter import FleetLimiter  # noqa: PLC0415

        return FleetLimiter(settings.cache_table)

    wait = settings.upload_provider_wait_seconds if uploads else settings.provider_wait_seconds
    router = Router(names, providers, limiter, max_wait=wait, budget=settings.upstream_deadline)
    store = DynamoLookupStore(settings.cache_table)
    budgets = Budgets(
        settings.cache_table, store.client, default_limit=settings.client_daily_lookup_budget
    )
    return LookupService(settings, store, router, budgets=budgets)


def _not_configured(provider: str) -> ProviderNotConfigured:
    return ProviderNotConfigured(
        f"lookup provider {provider} has no credentials configured; "
        "an operator must add them (or remove it from LOOKUP_PROVIDERS)"
    )
