"""Product providers for the lookup router, one module each; this package names them.

Adding a provider: one module in this package (a class satisfying `base.Provider`)
and one line in `wiring.build_provider`, plus its name here. Importing this package
is cheap (names only); a provider's HTTP stack is imported when the wiring builds it.

The Open Food Facts family (Open Food Facts, Open Beauty Facts, Open Pet Food Facts,
Open Products Facts) is one provider, `openfoodfacts`: one call answers from any of
the four databases. The sister databases' names stay accepted in LOOKUP_PROVIDERS as
aliases of that one call: `parse_names` turns them into `openfoodfacts` (in the place of
the first family name listed), so a list naming two of them still makes one call.
"""

from __future__ import annotations

OPEN_FACTS = ("openfoodfacts", "openbeautyfacts", "openpetfoodfacts", "openproductsfacts")
ALIASES = dict.fromkeys(OPEN_FACTS[1:], "openfoodfacts")
"""Names accepted in a provider list for another provider's one call."""

COMMUNITY = "community"  # the app's own users' contributions (community/), no upstream
PROVIDER_NAMES = ("openfoodfacts", "openlibrary", "upcitemdb", COMMUNITY, "baichuan")
"""Every provider, one name each."""

KEYLESS = frozenset(PROVIDER_NAMES) - {"baichuan"}
"""Providers that answer without an account (UPCitemdb: its trial endpoint)."""


def parse_names(value: str) -> tuple[str, ...]:
    """`a,b,c` as provider names in order, aliases resolved and duplicates dropped;
    ValueError for an unknown name or an empty list."""
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in PROVIDER_NAMES and name not in ALIASES]
    if unknown or not names:
        raise ValueError(value)
    return tuple(dict.fromkeys(ALIASES.get(name, name) for name in names))
