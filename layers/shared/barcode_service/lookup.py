"""Product lookup: validation, catalog, cache, quota guard, single-flight, upstream.

Order of a lookup, cheapest first, so that upstream quota is only spent when
nothing else can answer: validate -> restricted prefix -> one DynamoDB read
(catalog, cached answer, quota block, lease) -> catalog -> fresh cache ->
quota block -> single-flight lease -> upstream. Stale entries answer when the
upstream cannot.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from .cache import PRODUCT_FIELDS, CachedLookup, DynamoLookupStore, LookupStore, QuotaBlock
from .canonical import canonical_gtin
from .errors import (
    CredentialsNotConfigured,
    InvalidGtin,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UpstreamAccountError,
    UpstreamError,
    UpstreamQuotaExhausted,
    UpstreamUnavailable,
    account_block,
)
from .gtin import Gtin
from .observability import NAMESPACE, logger, metrics
from .settings import Settings

if TYPE_CHECKING:
    # The upstream client stack (requests, Secrets Manager, pydantic models) is
    # imported only when a lookup misses every cache: see build_lookup_service.
    from .baichuan import BaichuanClient, UpstreamNotFound, UpstreamProduct

Source = Literal["upstream", "cache", "catalog"]
MAX_BATCH = 100

# The provider behind the lookup client; its name in outcomes and metrics.
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

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"gtin": self.gtin.gtin14, "code": self.gtin.code}
        body["format"] = self.gtin.format
        body.update({name: self.fields.get(name) for name in PRODUCT_FIELDS})
        body["gs1_prefix"] = _prefix(self.gtin)
        body["source"] = self.source
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
    """What one lookup has done so far; becomes its LookupOutcome."""

    def __init__(self) -> None:
        self.calls: list[ProviderCall] = []
        self.blocked: ProviderBlock | None = None

    def outcome(self, result: Product | ServiceError) -> LookupOutcome:
        return LookupOutcome(result, tuple(self.calls), self.blocked)


def _count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _count_upstream_error(error: ServiceError) -> None:
    _count("UpstreamError")
    with single_metric(
        name="UpstreamErrorByKind", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="kind", value=error.code)


class LookupService:
    """Answers product lookups; shared by the API and the upload worker."""

    def __init__(
        self,
        settings: Settings,
        store: LookupStore,
        client_factory: Callable[[], BaichuanClient],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.store = store
        self._client_factory = client_factory
        self._client: BaichuanClient | None = None
        self._clock = clock
        self._sleep = sleep

    @property
    def client(self) -> BaichuanClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def lookup(self, code: str | Gtin, format_name: str | None = None) -> Product:
        """Find one product; raises NotFound, InvalidGtin or an upstream ServiceError.

        `code` is anything a scanner hands over (see canonical.py) or a parsed Gtin;
        `format_name` is the scanner's symbology name, if it gave one.
        """
        if not isinstance(code, Gtin):
            code = self.canonical_gtin(code, format_name)
        return self._lookup(code, _Trace())

    def canonical_gtin(self, code: str, format_name: str | None = None) -> Gtin:
        """The GTIN behind a scanned text, parsed with this service's GS1 region."""
        return canonical_gtin(code, format_name, rcn_region=self.settings.gs1_rcn_region)

    def resolve(self, code: str | Gtin, format_name: str | None = None) -> LookupOutcome:
        """`lookup`, saying what happened: the product or problem is in the outcome.

        Only a bad `format_name` raises (InvalidParameter): it is the caller's mistake.
        """
        if not isinstance(code, Gtin):
            try:
                code = self.canonical_gtin(code, format_name)
            except InvalidGtin as error:
                return LookupOutcome(error)
        return self.resolve_gtin(code)

    def resolve_gtin(self, gtin: Gtin) -> LookupOutcome:
        """`resolve` of a code already parsed."""
        trace = _Trace()
        try:
            return trace.outcome(self._lookup(gtin, trace))
        except ServiceError as error:
            return trace.outcome(error)

    def _lookup(self, gtin: Gtin, trace: _Trace) -> Product:
        if gtin.restricted:
            raise product_not_found(gtin, gtin.restriction_reason(), None, "catalog")
        snapshot = self.store.snapshot(gtin.gtin14, self._clock())
        if snapshot.catalog is not None:
            _count("CatalogHit")
            return Product(gtin, snapshot.catalog, "catalog", int(self._clock()))
        cached = snapshot.cached
        if cached is not None and cached.is_fresh(self._clock()):
            _count("CacheHit")
            return self._from_cache(gtin, cached, stale=False)
        _count("CacheMiss")
        if snapshot.block is not None:
            return self._blocked(gtin, cached, snapshot.block, trace)
        return self._single_flight(gtin, cached, trace, lease_held=snapshot.lease_held)

    def _from_cache(self, gtin: Gtin, cached: CachedLookup, *, stale: bool) -> Product:
        if cached.status != "found":
            raise product_not_found(
                gtin,
                f"no product is known for {gtin.code}",
                cached.fields.get("country"),
                "cache",
            )
        return Product(gtin, cached.fields, "cache", cached.fetched_at, stale=stale)

    def _serve_stale_or_raise(
        self,
        gtin: Gtin,
        cached: CachedLookup | None,
        error: ServiceError,
        trace: _Trace,
        *,
        until: float | None = None,
    ) -> Product:
        """The stale entry if there is one; else `error`, noted as a block if `until`."""
        if cached is not None:
            _count("StaleServed")
            logger.info("serving a stale entry", extra={"gtin": gtin.gtin14, "reason": error.code})
            return self._from_cache(gtin, cached, stale=True)
        if until is not None:
            trace.blocked = ProviderBlock(PROVIDER, error.code, until)
        raise error

    def _blocked(
        self, gtin: Gtin, cached: CachedLookup | None, block: QuotaBlock, trace: _Trace
    ) -> Product:
        """The answer while a recorded block stops provider calls."""
        error: ServiceError
        if block.code == UpstreamQuotaExhausted.code:
            now = datetime.fromtimestamp(self._clock(), UTC)
            error = UpstreamQuotaExhausted(
                "the lookup upstream's daily quota is used up; cached products still answer",
                reset_at=datetime.fromtimestamp(block.until, UTC),
                now=now,
            )
        else:
            error_class, _ = account_block(block.code)
            error = error_class(
                "the lookup upstream account needs an operator's attention",
                retry_after=max(1, int(block.until - self._clock())),
            )
        return self._serve_stale_or_raise(gtin, cached, error, trace, until=block.until)

    def _single_flight(
        self, gtin: Gtin, cached: CachedLookup | None, trace: _Trace, *, lease_held: bool
    ) -> Product:
        owner = uuid.uuid4().hex
        deadline = self._clock() + self.settings.lease_wait_seconds
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
                        return self._call_upstream(gtin, cached, trace)
                    finally:
                        self.store.release_lease(gtin.gtin14, owner)
            # Someone else is asking the upstream for this code: wait for their answer.
            if self._clock() >= deadline:
                busy = UpstreamUnavailable(
                    f"a lookup of {gtin.code} is already in progress; retry shortly", retry_after=1
                )
                return self._serve_stale_or_raise(gtin, cached, busy, trace)
            self._sleep(0.1)
            snapshot = self.store.snapshot(gtin.gtin14, self._clock())
            if snapshot.cached is not None and snapshot.cached.is_fresh(self._clock()):
                _count("SingleFlightWaitHit")
                return self._from_cache(gtin, snapshot.cached, stale=False)
            if snapshot.block is not None:
                return self._blocked(gtin, cached, snapshot.block, trace)
            lease_held = snapshot.lease_held

    def _call_upstream(self, gtin: Gtin, cached: CachedLookup | None, trace: _Trace) -> Product:
        _count("UpstreamCall")
        try:
            answer = self.client.query(gtin.upstream_code)
        except CredentialsNotConfigured:
            # No lookup upstream configured (e.g. a local run without keys): the
            # catalog and cache are all there is, so answer like a miss there.
            logger.warning("no lookup upstream credentials configured")
            if cached is not None:
                return self._from_cache(gtin, cached, stale=True)
            raise product_not_found(
                gtin,
                f"{gtin.code} is not in the catalog or cache, and no lookup upstream is configured",
                None,
                "catalog",
            ) from None
        except UpstreamQuotaExhausted as error:
            trace.calls.append(ProviderCall(PROVIDER, error.code))
            _count_upstream_error(error)
            _count("UpstreamQuotaExhausted")
            from .baichuan import next_china_midnight  # noqa: PLC0415 - loaded by the client

            # The reset time is the service's, so the whole lookup runs on one clock.
            now = datetime.fromtimestamp(self._clock(), UTC)
            reset_at = next_china_midnight(now)
            logger.error("lookup upstream daily quota used up", extra={"reset_at": str(reset_at)})
            self.store.block_upstream(error.code, int(reset_at.timestamp()))
            blocked = UpstreamQuotaExhausted(error.detail, reset_at=reset_at, now=now)
            return self._serve_stale_or_raise(
                gtin, cached, blocked, trace, until=reset_at.timestamp()
            )
        except UpstreamAccountError as error:
            trace.calls.append(ProviderCall(PROVIDER, error.code))
            _count_upstream_error(error)
            logger.error("lookup upstream account problem", extra={"code": error.code})
            until = int(self._clock()) + error.block_seconds
            self.store.block_upstream(error.code, until)
            return self._serve_stale_or_raise(gtin, cached, error, trace, until=until)
        except UpstreamError as error:
            trace.calls.append(ProviderCall(PROVIDER, error.code))
            _count_upstream_error(error)
            logger.warning("lookup upstream failed", extra={"code": error.code})
            return self._serve_stale_or_raise(gtin, cached, error, trace)
        trace.calls.append(ProviderCall(PROVIDER, "not_found" if _is_miss(answer) else "found"))
        return self._store_answer(gtin, answer)

    def _store_answer(self, gtin: Gtin, answer: UpstreamProduct | UpstreamNotFound) -> Product:
        from .baichuan import UpstreamNotFound  # noqa: PLC0415 - loaded by the client

        if isinstance(answer, UpstreamNotFound):
            self._remember(gtin, "not_found", {"country": answer.country})
            raise product_not_found(
                gtin, f"no product is known for {gtin.code}", answer.country, "upstream"
            )
        fields = {name: getattr(answer, name) for name in PRODUCT_FIELDS}
        self._remember(gtin, "found", fields)
        return Product(gtin, fields, "upstream", int(self._clock()))

    def _remember(self, gtin: Gtin, status: str, fields: dict[str, str | None]) -> None:
        """Cache an upstream answer; a failed write must not throw away a paid answer."""
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
            )
        except UpstreamUnavailable:
            _count("CacheWriteFailed")
            logger.warning("could not cache an upstream answer", extra={"gtin": gtin.gtin14})

    def lookup_many(self, codes: Any, workers: int = 4) -> list[dict[str, Any]]:
        """One result row per code, in request order; each distinct GTIN is looked up once."""
        if not isinstance(codes, list) or not codes:
            raise InvalidParameter("'codes' must be a non-empty list of codes")
        if len(codes) > MAX_BATCH:
            raise PayloadTooLarge(f"at most {MAX_BATCH} codes per request; got {len(codes)}")
        entries = [self._batch_key(raw) for raw in codes]
        distinct: dict[str, Gtin] = {}
        for _, parsed in entries:
            if isinstance(parsed, Gtin):
                distinct.setdefault(parsed.gtin14, parsed)
        outcomes: dict[str, LookupOutcome] = {}
        if distinct:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(distinct)))) as pool:
                outcomes = dict(
                    zip(distinct, pool.map(self.resolve_gtin, distinct.values()), strict=True)
                )
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


def _is_miss(answer: UpstreamProduct | UpstreamNotFound) -> bool:
    from .baichuan import UpstreamNotFound  # noqa: PLC0415 - loaded by the client

    return isinstance(answer, UpstreamNotFound)


def build_lookup_service(settings: Settings) -> LookupService:
    """The service wired to the real table, secret and upstream (clients built lazily).

    The upstream client, its HTTP stack and the credentials store are imported and
    built on the first lookup that has to call the upstream; cache and catalog hits
    never load them.
    """

    def client() -> BaichuanClient:
        # Lazy: requests, Powertools Parameters and the credential models cost ~40 ms
        # at import, and only a miss in the catalog and the cache needs them.
        from .baichuan import BaichuanClient  # noqa: PLC0415
        from .credentials import SecretStore  # noqa: PLC0415

        secrets = SecretStore(settings.secret_id, settings.secret_max_age)

        def keys(refresh: bool) -> tuple[str, str]:
            credentials = secrets.lookup(refresh)
            return credentials.api_key.get_secret_value(), credentials.secret_key.get_secret_value()

        return BaichuanClient(settings.lookup_api_url, keys, policy=settings.retry_policy())

    return LookupService(settings, DynamoLookupStore(settings.cache_table), client)
