"""Product providers for the lookup router, one module each; this package names them.

Adding a provider: one module in this package (a class satisfying `base.Provider`)
and one line in `wiring.build_provider`, plus its name here. Importing this package
is cheap (names only); a provider's HTTP stack is imported when the wiring builds it.
"""

from __future__ import annotations

OPEN_FACTS = ("openfoodfacts", "openbeautyfacts", "openpetfoodfacts", "openproductsfacts")
PROVIDER_NAMES = (*OPEN_FACTS, "openlibrary", "baichuan")
KEYLESS = frozenset(PROVIDER_NAMES) - {"baichuan"}


def parse_names(value: str) -> tuple[str, ...]:
    """`a,b,c` as provider names in order, duplicates dropped; ValueError for an unknown one."""
    names = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if name not in PROVIDER_NAMES]
    if unknown or not names:
        raise ValueError(value)
    return names
