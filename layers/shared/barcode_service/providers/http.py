"""One JSON GET for the keyless providers, on the shared transport.

Reads are free and idempotent, so connection failures and 5xx answers are retried
(bounded by the policy and the caller's deadline); a 429 is not: the provider is
asking us to slow down, and the router turns it into a fleet-wide pause instead.
A read timeout is not retried either: a slow provider would only be asked twice.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import requests

from ..errors import UpstreamError, UpstreamRateLimited, UpstreamTimeout, UpstreamUnavailable
from ..transport import (
    BodyTooLarge,
    Retryable,
    RetryPolicy,
    attempt_deadline,
    looks_like_html,
    read_body,
    retry_after_seconds,
    with_retries,
)
from .base import remaining

RATE_LIMITED_PAUSE = 60
"""Seconds to leave a provider alone after a 429 that names no Retry-After."""


def get_json(
    session: requests.Session,
    url: str,
    params: dict[str, str],
    *,
    policy: RetryPolicy,
    deadline: float,
    label: str,
    json_404: bool = False,
) -> Any:
    """The decoded JSON body of `GET url?params` (also of a JSON 404 when `json_404`)."""
    budget = dataclasses.replace(policy, deadline=remaining(deadline, policy.deadline))
    return with_retries(
        lambda timeout: _attempt(session, _Request(url, params, label, json_404), timeout), budget
    )


@dataclass(frozen=True)
class _Request:
    url: str
    params: dict[str, str]
    label: str
    json_404: bool


def _attempt(session: requests.Session, request: _Request, timeout: tuple[float, float]) -> Any:
    label, json_404 = request.label, request.json_404
    body_deadline = attempt_deadline(timeout)
    try:
        with session.get(
            request.url, params=request.params, timeout=timeout, stream=True
        ) as response:
            read_body(response, body_deadline)
    except requests.ConnectTimeout:
        raise Retryable(UpstreamUnavailable(f"{label} unreachable")) from None
    except requests.Timeout:
        raise UpstreamTimeout(f"{label} timed out") from None
    except BodyTooLarge:
        raise UpstreamError(f"{label} sent a body too large") from None
    except requests.RequestException:
        raise Retryable(UpstreamUnavailable(f"{label} unreachable")) from None
    status = response.status_code
    if status == 429:
        pause = retry_after_seconds(response)
        raise UpstreamRateLimited(
            f"{label} asks us to slow down",
            retry_after=max(1, round(pause)) if pause is not None else RATE_LIMITED_PAUSE,
        )
    if status >= 500:
        raise Retryable(
            UpstreamUnavailable(f"{label} failed (HTTP {status})"), retry_after_seconds(response)
        )
    if status != 200 and not (status == 404 and json_404):
        raise UpstreamError(f"{label} answered HTTP {status}")
    text = response.content.decode("utf-8-sig", errors="replace")
    if looks_like_html(text):
        raise UpstreamError(f"{label} sent an HTML page")
    try:
        return json.loads(text)
    except ValueError:
        # A 404 that is not the provider's JSON (a wrong base URL, a proxy page) is
        # an error, never a "not found" that would be cached.
        raise UpstreamError(f"{label} sent invalid JSON (HTTP {status})") from None
