"""Product providers for the lookup router: names, and building them from settings.

Adding a provider: one module in this package (a class satisfying
`base.Provider`) and one line in `build_provider`. Importing this package is
cheap; a provider's HTTP stack is imported when the first lookup needs one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

    from ..baichuan import BaichuanClient
    from ..settings import Settings
    from .base import Provider

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


def build_providers(
    names: Sequence[str],
    settings: Settings,
    baichuan_client: Callable[[], BaichuanClient],
    session: requests.Session | None = None,
) -> list[Provider]:
    """The providers named, in order, sharing one keep-alive session with our User-Agent."""
    from ..transport import new_session, user_agent  # noqa: PLC0415 - requests: ~40 ms

    shared = session or new_session(user_agent(settings.provider_contact))
    return [build_provider(name, settings, baichuan_client, shared) for name in names]


def build_provider(
    name: str,
    settings: Settings,
    baichuan_client: Callable[[], BaichuanClient],
    session: requests.Session,
) -> Provider:
    """One provider by name (a name from PROVIDER_NAMES)."""
    # Each branch imports only its own module.
    from .base import RateLimit  # noqa: PLC0415

    policy = settings.retry_policy()
    if name in OPEN_FACTS:
        from .openfoodfacts import OpenFactsProvider  # noqa: PLC0415

        url = getattr(settings, f"{name}_api_url")
        limit = RateLimit(settings.openfoodfacts_requests_per_minute, 60)
        return OpenFactsProvider(name, url, session, policy=policy, limit=limit)
    if name == "openlibrary":
        from .openlibrary import OpenLibraryProvider  # noqa: PLC0415

        limit = RateLimit(settings.openlibrary_requests_per_minute, 60)
        url = settings.openlibrary_api_url
        return OpenLibraryProvider(url, session, policy=policy, limit=limit)
    if name == "baichuan":
        from .baichuan import BaichuanProvider  # noqa: PLC0415

        limit = RateLimit(settings.baichuan_requests_per_second, 1, settings.baichuan_burst)
        return BaichuanProvider(baichuan_client, limit)
    raise ValueError(f"unknown provider {name!r}")
