"""Baichuan (百川条码查询) as a provider: the paid upstream, asked last by default.

A thin adapter over `barcode_service.baichuan.BaichuanClient`, whose behaviour is
unchanged (keys from the secret with rotation, no retry of a billed read timeout,
every documented Chinese message mapped to a typed error). No key configured is
`CredentialsNotConfigured`, which the router reports as `not_configured`.

`details` of an answer: `category` (the provider's `code_type`, e.g. 食品), or null.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from ..gtin import Gtin
from .base import ProviderNotFound, ProviderProduct, RateLimit, remaining

if TYPE_CHECKING:
    from ..baichuan import BaichuanClient

NAME = "baichuan"


class BaichuanProvider:
    """Products (mostly sold in China) from the Baichuan API; billed per found product."""

    name = NAME
    attribution: str | None = None  # no licence asks for one; the provider disclaims accuracy

    def __init__(self, client_factory: Callable[[], BaichuanClient], limit: RateLimit) -> None:
        self._client_factory = client_factory
        self.limit = limit

    @cached_property
    def client(self) -> BaichuanClient:
        return self._client_factory()

    def serves(self, gtin: Gtin) -> bool:
        return True

    def prepare(self) -> None:
        self.client.ready()

    def quota_reset(self, now: datetime) -> datetime:
        from ..baichuan import next_china_midnight  # noqa: PLC0415 - loaded with the client

        return next_china_midnight(now)  # the daily count resets at 00:00 China time

    def lookup(self, gtin: Gtin, deadline: float) -> ProviderProduct | ProviderNotFound:
        from ..baichuan import UpstreamNotFound  # noqa: PLC0415 - loaded with the client

        client = self.client
        policy = dataclasses.replace(
            client.policy, deadline=remaining(deadline, client.policy.deadline)
        )
        answer = client.query(gtin.upstream_code, policy)
        if isinstance(answer, UpstreamNotFound):
            return ProviderNotFound(country=answer.country)
        return ProviderProduct(
            name=answer.name,
            brand=answer.brand,
            company=answer.company,
            price=answer.price,
            spec=answer.spec,
            unit=answer.unit,
            image_url=answer.image_url,
            country=answer.country,
            details={"category": answer.type},
        )
