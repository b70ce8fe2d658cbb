"""Typed configuration read once from the environment (public names in docs/api.md)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin, get_type_hints

from .providers import parse_names

DEFAULT_GENERATE_API_URL = "https://api.gugudata.com/barcode/barcode"
DEFAULT_LOOKUP_API_URL = "https://tiaoma.cnaidc.com/api/api_query.php"

DAY = 86_400


@dataclass
class Settings:
    """Every knob the functions read; field names are the env var names lower-cased.

    A plain dataclass checked by `load_settings` (types, bounds, choices): settings are
    read on every cold start, and pydantic would add ~30-60 ms of imports to each.
    """

    secret_id: str = ""
    cache_table: str = ""
    generate_api_url: str = DEFAULT_GENERATE_API_URL
    generate_request_mode: Literal["get", "form", "multipart", "json"] = "get"
    lookup_api_url: str = DEFAULT_LOOKUP_API_URL
    # Product providers, asked in this order (free first, paid last); see providers/.
    lookup_providers: str = field(
        default="openfoodfacts,openlibrary,upcitemdb,community,baichuan",
        metadata={"providers": True},
    )
    # Bulk lists: Open Food Facts asks for one call per real user scan, not bulk work,
    # and UPCitemdb's trial allowance (100 a day for the whole fleet) would go to one list.
    upload_lookup_providers: str = field(
        default="openlibrary,baichuan", metadata={"providers": True}
    )
    openfoodfacts_api_url: str = "https://world.openfoodfacts.org"
    openbeautyfacts_api_url: str = "https://world.openbeautyfacts.org"
    openpetfoodfacts_api_url: str = "https://world.openpetfoodfacts.org"
    openproductsfacts_api_url: str = "https://world.openproductsfacts.org"
    openlibrary_api_url: str = "https://openlibrary.org"
    # Trial or paid endpoint under it, chosen by the secret's upcitemdb.user_key.
    upcitemdb_api_url: str = "https://api.upcitemdb.com"
    # Fleet-wide limits (every function instance and worker together). The Open Food
    # Facts family shares one (its four databases are one call).
    openfoodfacts_requests_per_minute: float = field(default=100.0, metadata={"gt": 0})
    # 0: follow PROVIDER_CONTACT (3 a second with a contact, 1 without), as Open Library asks.
    openlibrary_requests_per_minute: float = field(default=0.0, metadata={"ge": 0})
    # UPCitemdb: calls per UTC day for the whole fleet (the trial's 100; a paid plan's
    # own number; 0: no daily cap) and its spacing (no number is published for the trial).
    upcitemdb_daily_limit: int = field(default=100, metadata={"ge": 0})
    upcitemdb_requests_per_minute: float = field(default=6.0, metadata={"gt": 0})
    baichuan_requests_per_second: float = field(default=20.0, metadata={"gt": 0})
    # Baichuan's limit is a token bucket, like the lookup routes' throttle: its depth.
    baichuan_burst: int = field(default=10, metadata={"ge": 1})
    # The operator's URL or e-mail, sent in the User-Agent as the free providers ask;
    # empty: none is sent (Open Library may then refuse calls).
    provider_contact: str = ""
    # How long a caller waits for a free slot of a provider's limit before that provider
    # counts as rate limited (API requests), and the same for upload workers.
    provider_wait_seconds: float = field(default=2.0, metadata={"ge": 0})
    upload_provider_wait_seconds: float = field(default=20.0, metadata={"ge": 0})
    # The circuit breaker per provider, shared by the fleet (provider_health.py): this
    # many consecutive failures (timeouts, 5xx, malformed answers) open it for
    # PROVIDER_OUTAGE_SECONDS, then one probe is let through; 0 s: it never opens.
    provider_failures_to_open: int = field(default=3, metadata={"ge": 1})
    provider_outage_seconds: int = field(default=30, metadata={"ge": 0})
    # Provider lookups (answered calls, not requests) one API key or signed-in user may
    # cause per UTC day; cache and catalog answers are free; 0 = no budget (budgets.py).
    # An operator's per-client override (scripts/client_budget.py) wins.
    client_daily_lookup_budget: int = field(default=5000, metadata={"ge": 0})
    # The community catalog (community/): distinct callers whose contributions must agree
    # before everyone is answered with it, a caller's contributions per UTC day (0: no
    # limit), and whether a contribution that asks for it is also sent to Open Food Facts
    # (with the account in the secret) at OPENFOODFACTS_WRITE_URL, retried from
    # COMMUNITY_SHARE_QUEUE_URL up to COMMUNITY_SHARE_MAX_RECEIVE_COUNT deliveries.
    community_confirmations: int = field(default=2, metadata={"ge": 1})
    community_daily_limit: int = field(default=20, metadata={"ge": 0})
    community_share_openfoodfacts: Literal["true", "false"] = "false"
    openfoodfacts_write_url: str = "https://world.openfoodfacts.org"
    openfoodfacts_app_name: str = ""
    community_share_queue_url: str = ""
    community_share_max_receive_count: int = field(default=8, metadata={"ge": 1})
    generate_backend: Literal["upstream", "local", "auto"] = "auto"
    # Image bytes and redirects (response=image|redirect, the keyless /img/ path) are
    # rendered here ("local") unless the operator has them follow GENERATE_BACKEND.
    generate_image_backend: Literal["local", "configured"] = "local"

    secret_max_age: int = field(default=300, metadata={"ge": 0})
    upstream_connect_timeout: float = field(default=3.05, metadata={"gt": 0})
    upstream_read_timeout: float = field(default=8.0, metadata={"gt": 0})
    upstream_attempts: int = field(default=3, metadata={"ge": 1, "le": 5})
    upstream_backoff: float = field(default=0.25, metadata={"ge": 0})
    upstream_deadline: float = field(default=15.0, metadata={"gt": 0})

    found_ttl_seconds: int = field(default=30 * DAY, metadata={"ge": 0})
    not_found_ttl_seconds: int = field(default=1 * DAY, metadata={"ge": 0})
    stale_grace_seconds: int = field(default=60 * DAY, metadata={"ge": 0})
    lease_seconds: float = field(default=10.0, metadata={"gt": 0})
    lease_wait_seconds: float = field(default=6.0, metadata={"ge": 0})
    generate_url_ttl_seconds: int = field(default=7 * DAY, metadata={"ge": 0})

    images_bucket: str = ""
    images_base_url: str = ""
    presign_expires_seconds: int = field(default=7 * DAY, metadata={"ge": 60, "le": 7 * DAY})
    uploads_bucket: str = ""
    uploads_queue_url: str = ""
    upload_max_image_bytes: int = field(default=10 * 1024 * 1024, metadata={"gt": 0})
    upload_max_list_bytes: int = field(default=5 * 1024 * 1024, metadata={"gt": 0})
    upload_url_expires_seconds: int = field(default=900, metadata={"ge": 60})
    upload_chunk_size: int = field(default=500, metadata={"ge": 1})
    # Rows a list upload may hold; a longer list fails before any lookup is made.
    upload_max_rows: int = field(default=10_000, metadata={"ge": 1})
    upload_max_receive_count: int = field(default=5, metadata={"ge": 1})
    upload_job_ttl_seconds: int = field(default=7 * DAY, metadata={"ge": 60})
    upload_inline_results: int = field(default=100, metadata={"ge": 0})
    upload_results_url_expires_seconds: int = field(
        default=3600, metadata={"ge": 60, "le": 7 * DAY}
    )
    # How long a list may wait, from its first wait, for an upstream block (daily quota,
    # account problem) to end before its remaining rows get `error` rows; 0: never wait.
    upload_max_wait_seconds: int = field(default=2 * DAY, metadata={"ge": 0})
    # A processing job whose record has not moved this long is stalled (sweeper.py):
    # longer than any gap between a healthy run's writes (a chunk, a 15-minute wait).
    upload_stall_seconds: int = field(default=1800, metadata={"ge": 60})
    upload_stall_resumes: int = field(default=2, metadata={"ge": 0})
    worker_lookups_per_second: float = field(default=4.0, metadata={"gt": 0})
    # The SQS event source's MaximumConcurrency: with WORKER_LOOKUPS_PER_SECOND it makes the
    # uploads' share of the provider rate, which the workers split among themselves.
    uploads_maximum_concurrency: int = field(default=5, metadata={"ge": 1})
    # Lookups a worker runs at once ahead of the row it writes, so it keeps its rate when a
    # provider call takes longer than 1 / WORKER_LOOKUPS_PER_SECOND; 1: one after another.
    worker_lookup_concurrency: int = field(default=4, metadata={"ge": 1, "le": 16})
    worker_time_margin_seconds: float = field(default=20.0, metadata={"ge": 0})
    public_base_url: str = ""
    # GS1 region whose rules give the weight/price inside variable-measure numbers
    # (prefixes 20-29); empty: such numbers are only reported as restricted.
    gs1_rcn_region: Literal["", "dk", "ee", "fi", "de", "gb", "lv", "lt", "no", "se"] = ""

    @property
    def uploads_lookups_per_second(self) -> float:
        """The provider lookups per second all upload workers together may make."""
        return self.worker_lookups_per_second * self.uploads_maximum_concurrency

    @property
    def openlibrary_per_minute(self) -> float:
        """Open Library's fleet-wide rate: OPENLIBRARY_REQUESTS_PER_MINUTE when set, else its
        polite rate for our User-Agent: 3 a second with a contact, 1 a second without."""
        if self.openlibrary_requests_per_minute:
            return self.openlibrary_requests_per_minute
        return 180.0 if self.has_contact else 60.0

    @property
    def has_contact(self) -> bool:
        """Whether PROVIDER_CONTACT gives the User-Agent a contact (transport.user_agent)."""
        return any(character.isalnum() for character in self.provider_contact)

    @property
    def shares_to_openfoodfacts(self) -> bool:
        """COMMUNITY_SHARE_OPENFOODFACTS: contributions may be sent to Open Food Facts."""
        return self.community_share_openfoodfacts == "true"

    def provider_names(self, *, uploads: bool = False) -> tuple[str, ...]:
        """LOOKUP_PROVIDERS (or UPLOAD_LOOKUP_PROVIDERS) as names, in order."""
        return parse_names(self.upload_lookup_providers if uploads else self.lookup_providers)


class SettingsError(RuntimeError):
    """The environment holds a value of the wrong type; names the variable, never a value."""


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping (os.environ by default)."""
    env = os.environ if environ is None else environ
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    bad: list[str] = []
    for spec in fields(Settings):
        raw = env.get(spec.name.upper())
        if raw is None or raw == "":
            continue
        try:
            values[spec.name] = _parse(raw.strip(), hints[spec.name], spec.metadata)
        except ValueError:
            bad.append(spec.name.upper())
    if bad:
        raise SettingsError(f"invalid configuration in {', '.join(bad)}")
    return Settings(**values)


def _parse(raw: str, kind: Any, bounds: Any) -> Any:
    """`raw` as `kind` (str, int, float or a Literal of strings) within `bounds`."""
    if get_origin(kind) is Literal:
        if raw not in get_args(kind):
            raise ValueError(raw)
        return raw
    if kind is str:
        if bounds.get("providers"):
            return ",".join(parse_names(raw))
        return raw
    number: int | float = int(raw) if kind is int else float(raw)
    if not math.isfinite(number):
        raise ValueError(raw)
    too_low = ("ge" in bounds and number < bounds["ge"]) or (
        "gt" in bounds and number <= bounds["gt"]
    )
    too_high = "le" in bounds and number > bounds["le"]
    if too_low or too_high:
        raise ValueError(raw)
    return number


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once per cold start."""
    return load_settings()
