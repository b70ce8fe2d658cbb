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

from .cache import PRODUCT_FIELDS, CachedLookup, LookupStore, QuotaBlock
from .canonical import canonical_gtin
from .errors import (
    CredentialsNotConfigured,
    InvalidGtin,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UpstreamAccountError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamKeyDisabled,
    UpstreamNoPlan,
    UpstreamPlanExhausted,
    UpstreamQuotaExhausted,
    UpstreamUnavailable,
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

# How long an account-level failure stops further upstream calls: long enough to
# avoid a retry storm, short enough that a fixed secret or a new plan is noticed.
ACCOUNT_BLOCK_SECONDS = {
    UpstreamAuthFailed.code: 60,
    UpstreamKeyDisabled.code: 900,
    UpstreamNoPlan.code: 900,
    UpstreamPlanExhausted.code: 900,
}
_BLOCK_ERRORS: dict[str, type[UpstreamAccountError]] = {
    UpstreamAuthFailed.code: UpstreamAuthFailed,
    UpstreamKeyDisabled.code: UpstreamKeyDisabled,
    UpstreamNoPlan.code: UpstreamNoPlan,
    UpstreamPlanExhausted.code: UpstreamPlanExhausted,
}


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
        return self._lookup(code)

    def canonical_gtin(self, code: str, format_name: str | None = None) -> Gtin:
        """The GTIN behind a scanned text, parsed with this service's GS1 region."""
        return canonical_gtin(code, format_name, rcn_region=self.settings.gs1_rcn_region)

    def _lookup(self, gtin: Gtin) -> Product:
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
            return self._serve_stale_or_raise(gtin, cached, self._blocked_error(snapshot.block))
        return self._single_flight(gtin, cached, lease_held=snapshot.lease_held)

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
        self, gtin: Gtin, cached: CachedLookup | None, error: ServiceError
    ) -> Product:
        if cached is not None:
            _count("StaleServed")
            logger.info("serving a stale entry", extra={"gtin": gtin.gtin14, "reason": error.code})
            return self._from_cache(gtin, cached, stale=True)
        raise error

    def _blocked_error(self, block: QuotaBlock) -> ServiceError:
        if block.code == UpstreamQuotaExhausted.code:
            now = datetime.fromtimestamp(self._clock(), UTC)
            return UpstreamQuotaExhausted(
                "the lookup upstream's daily quota is used up; cached products still answer",
                reset_at=datetime.fromtimestamp(block.until, UTC),
                now=now,
            )
        error_class = _BLOCK_ERRORS.get(block.code, UpstreamAuthFailed)
        return error_class(
            "the lookup upstream account needs an operator's attention",
            retry_after=max(1, int(block.until - self._clock())),
        )

    def _single_flight(
        self, gtin: Gtin, cached: CachedLookup | None, *, lease_held: bool
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
                    return self._serve_stale_or_raise(gtin, cached, table_down)
                if acquired:
                    try:
                        return self._call_upstream(gtin, cached)
                    finally:
                        self.store.release_lease(gtin.gtin14, owner)
            # Someone else is asking the upstream for this code: wait for their answer.
            if self._clock() >= deadline:
                busy = UpstreamUnavailable(
                    f"a lookup of {gtin.code} is already in progress; retry shortly", retry_after=1
                )
                return self._serve_stale_or_raise(gtin, cached, busy)
            self._sleep(0.1)
            snapshot = self.store.snapshot(gtin.gtin14, self._clock())
            if snapshot.cached is not None and snapshot.cached.is_fresh(self._clock()):
                _count("SingleFlightWaitHit")
                return self._from_cache(gtin, snapshot.cached, stale=False)
            if snapshot.block is not None:
                return self._serve_stale_or_raise(gtin, cached, self._blocked_error(snapshot.block))
            lease_held = snapshot.lease_held

    def _call_upstream(self, gtin: Gtin, cached: CachedLookup | None) -> Product:
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
            _count_upstream_error(error)
            _count("UpstreamQuotaExhausted")
            from .baichuan import next_china_midnight  # noqa: PLC0415 - loaded by the client

            # The reset time is the service's, so the whole lookup runs on one clock.
            now = datetime.fromtimestamp(self._clock(), UTC)
            reset_at = next_china_midnight(now)
            logger.error("lookup upstream daily quota used up", extra={"reset_at": str(reset_at)})
            self.store.block_upstream(error.code, int(reset_at.timestamp()))
            blocked = UpstreamQuotaExhausted(error.detail, reset_at=reset_at, now=now)
            return self._serve_stale_or_raise(gtin, cached, blocked)
        except UpstreamAccountError as error:
            _count_upstream_error(error)
            logger.error("lookup upstream account problem", extra={"code": error.code})
            seconds = ACCOUNT_BLOCK_SECONDS.get(error.code, 60)
            self.store.block_upstream(error.code, int(self._clock()) + seconds)
            return self._serve_stale_or_raise(gtin, cached, error)
        except UpstreamError as error:
            _count_upstream_error(error)
            logger.warning("lookup upstream failed", extra={"code": error.code})
            return self._serve_stale_or_raise(gtin, cached, error)
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
        for gtin, _, _ in entries:
            if gtin is not None:
                distinct.setdefault(gtin.gtin14, gtin)
        answers: dict[str, dict[str, Any]] = {}
        if distinct:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(distinct)))) as pool:
                answers = dict(
                    zip(distinct, pool.map(self._batch_row, distinct.values()), strict=True)
                )
        return [
            {"code": text, **(answers[gtin.gtin14] if gtin is not None else invalid or {})}
            for gtin, text, invalid in entries
        ]

    def _batch_key(self, raw: Any) -> tuple[Gtin | None, str, dict[str, Any] | None]:
        """(the parsed GTIN or None, the code as text, the invalid_gtin row if invalid)."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            error = InvalidGtin("each code must be a string of digits")
            return None, str(raw), {"status": "invalid_gtin", "error": error.to_problem()}
        try:
            return self.canonical_gtin(raw), raw, None
        except InvalidGtin as error:
            return None, raw, {"status": "invalid_gtin", "error": error.to_problem()}

    def _batch_row(self, gtin: Gtin) -> dict[str, Any]:
        try:
            return {"status": "found", "product": self._lookup(gtin).to_dict()}
        except NotFound as error:
            return {"status": "not_found", "error": error.to_problem()}
        except ServiceError as error:
            return {"status": "error", "error": error.to_problem()}


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

    return LookupService(settings, LookupStore(settings.cache_table), client)
