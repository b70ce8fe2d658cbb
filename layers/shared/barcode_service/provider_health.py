"""Provider health: one block per provider, a fleet-wide circuit breaker, and their answers.

One item per provider in the cache table (`HEALTH#<provider>`) holds what the whole
fleet knows about that provider's ability to answer now:
- `code`, `until`: a live block, the problem code it answers with and its end (epoch
  s). Either the provider's own signal (a 429 for its Retry-After, a used-up quota until
  its reset, an account problem for its documented time) or the breaker, open;
- `failures`: the provider's consecutive failures (timeouts, 5xx, malformed answers);
- `probe_until`: the one half-open probe somebody is making.

The breaker: PROVIDER_FAILURES_TO_OPEN consecutive failures open it for
PROVIDER_OUTAGE_SECONDS; after that, one caller claims the probe (half-open) while the
others are answered as if it were still open; an answer closes it, a failure opens it
again. One failure alone stops nothing: a malformed answer is that code's
`upstream_error`. The most specific block wins: a write never replaces a live block of
a more specific kind (quota > account > rate limit > outage), so a quota exhaustion is
never answered as an outage.

A block becomes an answer in one place, `ProviderBlock.error`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from . import dynamo
from .errors import (
    ACCOUNT_BLOCKS,
    ServiceError,
    UpstreamAccountError,
    UpstreamInArrears,
    UpstreamQuotaExhausted,
    UpstreamRateLimited,
    UpstreamUnavailable,
    account_block,
)
from .observability import count, logger
from .statuses import ProviderOutcome

OUTAGE = UpstreamUnavailable.code
SPECIFICITY: Mapping[str, int] = {
    UpstreamQuotaExhausted.code: 4,
    **dict.fromkeys((*ACCOUNT_BLOCKS, UpstreamInArrears.code), 3),
    UpstreamRateLimited.code: 2,
    OUTAGE: 1,
}
"""Which block wins when two meet: the higher number (unknown codes rank as an outage)."""


DAY = 86_400


def health_key(provider: str) -> str:
    return f"HEALTH#{provider}"


@dataclass(frozen=True)
class ProviderBlock:
    """`provider` may not be called before `until` (epoch s); it answers with `code`."""

    provider: str
    code: str
    until: int

    @property
    def specificity(self) -> int:
        return SPECIFICITY.get(self.code, 1)

    @property
    def outcome(self) -> ProviderOutcome:
        """The provider outcome this block stands for."""
        if self.code == UpstreamQuotaExhausted.code:
            return ProviderOutcome.QUOTA
        if self.specificity == 3:
            return ProviderOutcome.AUTH
        if self.code == UpstreamRateLimited.code:
            return ProviderOutcome.RATE_LIMITED
        if self.code == "client_budget_exceeded":
            return ProviderOutcome.OVER_BUDGET
        return ProviderOutcome.OUTAGE

    def retry_at(self) -> str:
        return datetime.fromtimestamp(self.until, UTC).isoformat()

    def error(self, now: float) -> ServiceError:
        """The problem this block answers with, its Retry-After counted from `now`."""
        provider = self.provider
        retry_after = max(1, int(self.until - now))
        if self.code == UpstreamQuotaExhausted.code:
            return UpstreamQuotaExhausted(
                f"the daily quota of lookup provider {provider} is used up; "
                "cached products still answer",
                reset_at=datetime.fromtimestamp(self.until, UTC),
                now=datetime.fromtimestamp(now, UTC),
            )
        if self.code == UpstreamRateLimited.code:
            return UpstreamRateLimited(
                f"lookup provider {provider} asked us to slow down", retry_after=retry_after
            )
        if self.specificity == 3:
            error_class = (
                UpstreamInArrears
                if self.code == UpstreamInArrears.code
                else account_block(self.code)[0]
            )
            return error_class(
                f"the account at lookup provider {provider} needs an operator's attention",
                retry_after=retry_after,
            )
        return UpstreamUnavailable(
            f"lookup provider {provider} is failing; it is left alone for a while",
            retry_after=retry_after,
        )


@dataclass(frozen=True)
class ProviderHealth:
    """What the table says about one provider: its block (live or not), streak and probe."""

    provider: str
    block: ProviderBlock | None = None
    failures: int = 0
    probe_until: int = 0

    def live_block(self, now: float) -> ProviderBlock | None:
        return self.block if self.block is not None and self.block.until > now else None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ProviderHealth:
        """The health stored in a `HEALTH#<provider>` item (deserialised)."""
        provider = str(item["pk"]).removeprefix("HEALTH#")
        block = None
        if item.get("code") and item.get("until"):
            block = ProviderBlock(provider, str(item["code"]), int(item["until"]))
        return cls(
            provider,
            block,
            failures=int(item.get("failures", 0)),
            probe_until=int(item.get("probe_until", 0)),
        )


class HealthStore(Protocol):
    """The writes of provider health (reads come with the lookup's one snapshot read)."""

    def add_failure(self, provider: str, now: float) -> int:
        """One more consecutive failure; the streak after it."""
        ...

    def open(self, block: ProviderBlock, now: float) -> bool:
        """Record `block` unless a more specific one is live; whether it was recorded."""
        ...

    def close(self, provider: str) -> None:
        """An answer came: the streak and any probe end."""
        ...

    def claim_probe(self, provider: str, until: int, now: float) -> bool:
        """Take the half-open probe until `until`; False when another caller holds it."""
        ...


class DynamoHealthStore:
    """`HEALTH#<provider>` items of the cache table (a `HealthStore`), all by UpdateItem."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self.client = client

    def _update(self, provider: str, expression: str, **kwargs: Any) -> Any:
        return dynamo.call(
            self.client,
            "update_item",
            "cache table",
            TableName=self.table_name,
            Key=dynamo.key(health_key(provider)),
            UpdateExpression=expression,
            **kwargs,
        )

    def add_failure(self, provider: str, now: float) -> int:
        answer = self._update(
            provider,
            "ADD failures :one SET expires_at = :exp",
            ExpressionAttributeValues={":one": {"N": "1"}, ":exp": {"N": str(int(now) + DAY)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["failures"]["N"])

    def open(self, block: ProviderBlock, now: float) -> bool:
        expires = max(block.until, int(now) + DAY)
        try:
            self._update(
                block.provider,
                "SET #code = :code, #until = :until, #rank = :rank, expires_at = :exp",
                ConditionExpression=(
                    "attribute_not_exists(#until) OR #until <= :now OR #rank <= :rank"
                ),
                ExpressionAttributeNames={"#code": "code", "#until": "until", "#rank": "rank"},
                ExpressionAttributeValues={
                    ":code": {"S": block.code},
                    ":until": {"N": str(block.until)},
                    ":rank": {"N": str(block.specificity)},
                    ":now": {"N": str(int(now))},
                    ":exp": {"N": str(expires)},
                },
            )
        except ClientError:  # a more specific block is live: it stays
            return False
        return True

    def close(self, provider: str) -> None:
        self._update(
            provider,
            "SET failures = :zero REMOVE probe_until",
            ExpressionAttributeValues={":zero": {"N": "0"}},
        )

    def claim_probe(self, provider: str, until: int, now: float) -> bool:
        try:
            self._update(
                provider,
                "SET probe_until = :until",
                ConditionExpression="attribute_not_exists(probe_until) OR probe_until <= :now",
                ExpressionAttributeValues={
                    ":until": {"N": str(until)},
                    ":now": {"N": str(int(now))},
                },
            )
        except ClientError:
            return False
        return True


@dataclass(frozen=True)
class BreakerPolicy:
    """PROVIDER_FAILURES_TO_OPEN, PROVIDER_OUTAGE_SECONDS (0: never open), and how long a
    probe may take before another caller may probe (the lookup's upstream deadline)."""

    failures_to_open: int = 3
    outage_seconds: int = 30
    probe_seconds: float = 15.0


class Attempt(Protocol):
    """What the breaker reads of one provider's part in a route (router.ProviderResult)."""

    @property
    def provider(self) -> str: ...

    @property
    def called(self) -> bool: ...

    @property
    def answered(self) -> bool: ...

    @property
    def error(self) -> ServiceError | None: ...

    @property
    def quota_reset(self) -> int | None: ...


@dataclass
class Gate:
    """One lookup's view of the providers' health: which may be asked now."""

    health: Mapping[str, ProviderHealth]
    store: HealthStore
    policy: BreakerPolicy
    now: float
    probing: set[str] = field(default_factory=set)

    def check(self, provider: str) -> ProviderBlock | None:
        """None when `provider` may be asked now, else the block that stops the call."""
        health = self.health.get(provider)
        if health is None:
            return None
        block = health.live_block(self.now)
        if block is not None:
            return block
        if self.policy.outage_seconds <= 0 or health.failures < self.policy.failures_to_open:
            return None
        # Half-open: one caller of the fleet probes, the others wait for its answer.
        until = int(self.now + self.policy.probe_seconds) + 1
        try:
            claimed = self.store.claim_probe(provider, until, self.now)
        except UpstreamUnavailable:
            claimed = True  # the table cannot say: the call itself will tell
        if claimed:
            self.probing.add(provider)
            return None
        return ProviderBlock(provider, OUTAGE, max(health.probe_until, int(self.now) + 1))

    def record(self, attempt: Attempt) -> ProviderBlock | None:
        """Store what one provider's call says about its health; the block it opened.

        A call not made says nothing, except a quota: our own limiter's daily allowance
        used up blocks the provider until its reset like the provider's own word would.
        An answer that used up the provider's allowance (`quota_reset` on an answer)
        blocks it until then, so the call it would refuse is never made.
        """
        if not attempt.called and attempt.quota_reset is None:
            return None
        provider = attempt.provider
        try:
            if attempt.answered:
                self._answered(provider)
                if attempt.quota_reset is None:
                    return None
                return self._spent(provider, attempt.quota_reset)
            error = attempt.error
            signal = self._signal(attempt, error)
            if signal is not None:
                self.store.open(signal, self.now)
                return signal
            return self._failed(provider)
        except UpstreamUnavailable:
            logger.warning("could not record a provider's health", extra={"provider": provider})
            return None

    def _answered(self, provider: str) -> None:
        health = self.health.get(provider)
        if provider in self.probing or (health is not None and health.failures > 0):
            self.store.close(provider)
            if provider in self.probing:
                count("ProviderBreakerClosed")
                logger.info("lookup provider answers again", extra={"provider": provider})

    def _spent(self, provider: str, until: int) -> ProviderBlock:
        """The provider's allowance is used up by an answer: blocked until `until`."""
        logger.info(
            "lookup provider allowance used up", extra={"provider": provider, "until": str(until)}
        )
        block = ProviderBlock(provider, UpstreamQuotaExhausted.code, until)
        self.store.open(block, self.now)
        return block

    def _signal(self, attempt: Attempt, error: ServiceError | None) -> ProviderBlock | None:
        """The block a provider's own signal asks for (quota, account, 429), if any."""
        now, provider = int(self.now), attempt.provider
        if isinstance(error, UpstreamQuotaExhausted):
            reset = attempt.quota_reset or now + 3600
            logger.error(
                "lookup provider daily quota used up",
                extra={"provider": provider, "reset_at": str(reset)},
            )
            return ProviderBlock(provider, error.code, reset)
        if isinstance(error, UpstreamAccountError):
            logger.error(
                "lookup provider account problem", extra={"provider": provider, "code": error.code}
            )
            return ProviderBlock(provider, error.code, now + error.block_seconds)
        if isinstance(error, UpstreamRateLimited):
            pause = error.retry_after or self.policy.outage_seconds or 1
            return ProviderBlock(provider, error.code, now + pause)
        return None

    def _failed(self, provider: str) -> ProviderBlock | None:
        """One more failure; the breaker's block when this one opens it."""
        failures = self.store.add_failure(provider, self.now)
        logger.warning("lookup provider failed", extra={"provider": provider, "failures": failures})
        policy = self.policy
        if policy.outage_seconds <= 0 or failures < policy.failures_to_open:
            return None
        block = ProviderBlock(provider, OUTAGE, int(self.now) + policy.outage_seconds)
        if not self.store.open(block, self.now):
            return None
        count("ProviderBreakerOpened")
        logger.warning(
            "lookup provider breaker open",
            extra={"provider": provider, "failures": failures, "until": str(block.until)},
        )
        return block
