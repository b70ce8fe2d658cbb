"""Typed configuration read once from the environment (names in contract.md)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, ValidationError

if TYPE_CHECKING:
    from .transport import RetryPolicy

DEFAULT_GENERATE_API_URL = "https://api.gugudata.com/barcode/barcode"
DEFAULT_LOOKUP_API_URL = "https://tiaoma.cnaidc.com/api/api_query.php"

DAY = 86_400


class Settings(BaseModel):
    """Every knob the functions read; field names are the env var names lower-cased."""

    secret_id: str = ""
    cache_table: str = ""
    generate_api_url: str = DEFAULT_GENERATE_API_URL
    generate_request_mode: Literal["get", "form", "multipart", "json"] = "get"
    lookup_api_url: str = DEFAULT_LOOKUP_API_URL
    generate_backend: Literal["upstream", "local", "auto"] = "auto"

    secret_max_age: int = Field(default=300, ge=0)
    upstream_connect_timeout: float = Field(default=3.05, gt=0)
    upstream_read_timeout: float = Field(default=8.0, gt=0)
    upstream_attempts: int = Field(default=3, ge=1, le=5)
    upstream_backoff: float = Field(default=0.25, ge=0)
    upstream_deadline: float = Field(default=15.0, gt=0)

    found_ttl_seconds: int = Field(default=30 * DAY, ge=0)
    not_found_ttl_seconds: int = Field(default=1 * DAY, ge=0)
    stale_grace_seconds: int = Field(default=60 * DAY, ge=0)
    lease_seconds: float = Field(default=10.0, gt=0)
    lease_wait_seconds: float = Field(default=6.0, ge=0)
    generate_url_ttl_seconds: int = Field(default=7 * DAY, ge=0)

    images_bucket: str = ""
    images_base_url: str = ""
    presign_expires_seconds: int = Field(default=7 * DAY, ge=60, le=7 * DAY)
    uploads_bucket: str = ""
    uploads_queue_url: str = ""
    upload_max_image_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    upload_max_list_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    upload_url_expires_seconds: int = Field(default=900, ge=60)
    upload_chunk_size: int = Field(default=500, ge=1)
    upload_max_receive_count: int = Field(default=5, ge=1)
    upload_job_ttl_seconds: int = Field(default=7 * DAY, ge=60)
    upload_inline_results: int = Field(default=100, ge=0)
    upload_results_url_expires_seconds: int = Field(default=3600, ge=60, le=7 * DAY)
    worker_lookups_per_second: float = Field(default=4.0, gt=0)
    worker_time_margin_seconds: float = Field(default=20.0, ge=0)
    public_base_url: str = ""

    def retry_policy(self) -> RetryPolicy:
        """Upstream retry/timeout policy from the upstream_* settings."""
        # Lazy: transport pulls in requests, which only the upstream clients need.
        from .transport import RetryPolicy  # noqa: PLC0415

        return RetryPolicy(
            attempts=self.upstream_attempts,
            backoff=self.upstream_backoff,
            deadline=self.upstream_deadline,
            connect_timeout=self.upstream_connect_timeout,
            read_timeout=self.upstream_read_timeout,
        )


class SettingsError(RuntimeError):
    """The environment holds a value of the wrong type; names the variable, never a value."""


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping (os.environ by default)."""
    env = os.environ if environ is None else environ
    raw = {
        name: env[name.upper()]
        for name in Settings.model_fields
        if env.get(name.upper()) not in (None, "")
    }
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        names = ", ".join(str(err["loc"][0]).upper() for err in exc.errors())
        raise SettingsError(f"invalid configuration in {names}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once per cold start."""
    return load_settings()
