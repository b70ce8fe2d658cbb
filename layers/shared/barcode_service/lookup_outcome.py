"""What one lookup did: its product or its problem, its provider calls, what blocked it.

The lookup service returns it (`LookupService.resolve`) so that no caller has to infer
what happened from the shape of an answer: batch rows, scan entries and upload rows
are all made from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import InvalidGtin, NotFound, NotServed, ServiceError
from .product import Product
from .provider_health import ProviderBlock
from .statuses import CodeStatus


@dataclass(frozen=True)
class ProviderCall:
    """One call a lookup made to a provider, and what came of it."""

    provider: str
    outcome: str  # "found", "not_found", or the problem code of the failure


@dataclass(frozen=True)
class LookupOutcome:
    """What one lookup did: its product or its problem, the provider calls it made, and
    the block that kept it from an answer (a provider's quota or account block, or the
    caller's spent budget; None when nothing blocked it), which an upload may wait out."""

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
    def status(self) -> CodeStatus:
        if isinstance(self.result, Product):
            return CodeStatus.FOUND
        if isinstance(self.result, InvalidGtin):
            return CodeStatus.INVALID_GTIN
        if isinstance(self.result, NotServed):
            return CodeStatus.NOT_SERVED
        if isinstance(self.result, NotFound):
            return CodeStatus.NOT_FOUND
        return CodeStatus.ERROR

    @property
    def called_provider(self) -> bool:
        """Whether any provider was called (and its quota spent)."""
        return bool(self.calls)

    def answer(self) -> dict[str, Any]:
        """`status` plus the product, or plus the problem document."""
        if isinstance(self.result, Product):
            return {"status": CodeStatus.FOUND, "product": self.result.to_dict()}
        return {"status": self.status, "error": self.result.to_problem()}
