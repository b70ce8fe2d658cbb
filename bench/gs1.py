"""GS1 checks: what one check of GS1 data costs, beside biip's parse of the same data.

Ours = `gs1.parse_element_string` / `gs1.parse_digital_link`: split the data into AIs
and run GS1's rules as zint compiles them (gs1_syntax.verify: one zint GS1-mode encode
without printing, plus the repeated-AI check), the one check that scans and generation
both run. biip = `GS1Message.parse_hri` / `GS1DigitalLinkURI.parse`, the parse this
replaced (patterns and a few check digits only). Both run in one process, warm,
interleaved in short rounds; each figure is the median microseconds per check with the
range of the rounds, and the ratio of the medians.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from typing import Any

from .common import Figure, ensure_paths, median, module_main

CASES = (
    ("typical element string", "element", "(01)09506000134352(17)271231(10)AB1"),
    (
        "long element string (8 AIs)",
        "element",
        "(01)09506000134352(17)271231(10)AB1234567890(21)SERIAL-0001(3103)000195"
        "(400)ORDER-12345(422)276(4326)251231",
    ),
    ("refused element string (day 00)", "element", "(01)09506000134352(4326)251200"),
    ("Digital Link URI", "link", "https://id.gs1.org/01/09506000134352/10/AB1?17=271231"),
)
TARGET_US = 1000.0  # the budget: about a millisecond a check


def _per_call_us(action: Callable[[], Any], seconds: float) -> float:
    count = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        action()
        count += 1
    return elapsed / count * 1e6


def _quietly(parse: Callable[[str], Any]) -> Callable[[str], None]:
    def call(text: str) -> None:
        with contextlib.suppress(Exception):  # a refusal is a check too: it is timed alike
            parse(text)

    return call


def run(quick: bool = False) -> list[Figure]:
    ensure_paths()
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI
    from biip.gs1_messages import GS1Message

    from barcode_service import gs1

    ours = {
        "element": _quietly(gs1.parse_element_string),
        "link": _quietly(gs1.parse_digital_link),
    }
    theirs = {"element": _quietly(GS1Message.parse_hri), "link": _quietly(GS1DigitalLinkURI.parse)}
    rounds, slice_seconds = (3, 0.05) if quick else (9, 0.2)
    figures = []
    for title, kind, text in CASES:
        ours[kind](text), theirs[kind](text)  # warm: imports and caches
        mine, biip = [], []
        for _ in range(rounds):
            mine.append(_per_call_us(lambda: ours[kind](text), slice_seconds))  # noqa: B023
            biip.append(_per_call_us(lambda: theirs[kind](text), slice_seconds))  # noqa: B023
        ours_us, biip_us = median(mine), median(biip)
        figures.append(
            Figure(
                "gs1",
                f"{title}: one check",
                f"{ours_us:.1f} us (rounds {min(mine):.1f}-{max(mine):.1f}) vs biip's parse "
                f"{biip_us:.1f} us (rounds {min(biip):.1f}-{max(biip):.1f}) = "
                f"{ours_us / biip_us:.2f}x",
                target=f"<= {TARGET_US:.0f} us",
                ok=ours_us <= TARGET_US,
                crosses=max(mine) > TARGET_US >= ours_us,
            )
        )
    return figures


if __name__ == "__main__":
    sys.exit(module_main(run))
