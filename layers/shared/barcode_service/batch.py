"""Batch lookups (`POST /v1/products/lookup`): one row per code, in request order.

Each distinct GTIN is looked up once, a few at a time; a code the caller's budget
cannot pay for is an `error` row with the 429 `client_budget_exceeded` problem while
the other rows still answer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .errors import InvalidGtin, InvalidParam, InvalidParameter, PayloadTooLarge
from .gtin import Gtin
from .lookup import LookupService
from .lookup_outcome import LookupOutcome
from .router import Budget
from .rows import CodeRow

MAX_BATCH = 100


def lookup_many(
    service: LookupService,
    codes: Any,
    workers: int = 4,
    *,
    budget: Budget | None = None,
    caller: str | None = None,
) -> list[CodeRow]:
    """One row per code of `codes` (the request's `codes` member, checked here): the code
    as sent, its status, and its product or problem (`caller`: as LookupService.lookup)."""
    _check(codes)
    entries = [_parse(service, raw) for raw in codes]
    distinct: dict[str, Gtin] = {}
    for _, parsed in entries:
        if isinstance(parsed, Gtin):
            distinct.setdefault(parsed.gtin14, parsed)
    outcomes: dict[str, LookupOutcome] = {}
    if distinct:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(distinct)))) as pool:
            answers = pool.map(
                lambda gtin: service.resolve(gtin, budget=budget, caller=caller),
                distinct.values(),
            )
            outcomes = dict(zip(distinct, answers, strict=True))
    return [
        CodeRow.of(outcomes[p.gtin14] if isinstance(p, Gtin) else p, code=text)
        for text, p in entries
    ]


def _check(codes: Any) -> None:
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


def _parse(service: LookupService, raw: str | int) -> tuple[str, Gtin | LookupOutcome]:
    """(the code as text, its parsed GTIN or its invalid_gtin outcome)."""
    text = str(raw)
    try:
        return text, service.canonical_gtin(text)
    except InvalidGtin as error:
        return text, LookupOutcome(error)
