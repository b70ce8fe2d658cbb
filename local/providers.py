"""The local stack's banner lines about the lookup providers: the order they are asked in
(for API lookups and for uploads) and what each has or lacks (a key, the contact)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _secret_value(secret: Mapping[str, Any], section: str, name: str) -> str:
    part = secret.get(section)
    value = part.get(name) if isinstance(part, dict) else None
    return value.strip() if isinstance(value, str) else ""


def provider_lines(environment: Mapping[str, str], secret: Mapping[str, Any]) -> list[str]:
    """Banner lines for the providers the functions' `environment` names, given the
    credentials `secret` document; none when the settings cannot be read (the functions
    then fail to load and the banner says so)."""
    from barcode_service.settings import SettingsError, load_settings

    try:
        settings = load_settings(dict(environment))
        lookups, uploads = settings.provider_names(), settings.provider_names(uploads=True)
    except (SettingsError, ValueError):
        return []

    def open_food_facts() -> str:
        return (
            "keyless; Open Food Facts, Beauty, Pet Food and Products Facts in one call, "
            f"{settings.openfoodfacts_requests_per_minute:g} a minute"
        )

    def open_library() -> str:
        rate = f"{settings.openlibrary_per_minute:g} a minute"
        if settings.has_contact:
            return f"keyless; contact {settings.provider_contact.strip()} sent, {rate}"
        return f"keyless; NO PROVIDER_CONTACT: Open Library may refuse calls without one, {rate}"

    def upcitemdb() -> str:
        limit = settings.upcitemdb_daily_limit
        daily = f"{limit} calls a day for the whole stack" if limit else "no daily cap"
        if _secret_value(secret, "upcitemdb", "user_key"):
            return f"paid plan (UPCITEMDB_USER_KEY), {daily}"
        return f"trial (no UPCITEMDB_USER_KEY), {daily}"

    def community() -> str:
        share = "off (COMMUNITY_SHARE_OPENFOODFACTS)"
        if settings.shares_to_openfoodfacts:
            has_account = _secret_value(secret, "openfoodfacts", "user_id")
            share = "on" if has_account else "on, but NO OPENFOODFACTS_USER_ID: not sent"
        agree = settings.community_confirmations
        return f"your users' contributions, published when {agree} agree; sharing {share}"

    def baichuan() -> str:
        if _secret_value(secret, "lookup", "api_key"):
            return "paid; LOOKUP_API_KEY set"
        return "paid; NO LOOKUP_API_KEY: answers upstream_not_configured"

    status: dict[str, Callable[[], str]] = {
        "openfoodfacts": open_food_facts,
        "openlibrary": open_library,
        "upcitemdb": upcitemdb,
        "community": community,
        "baichuan": baichuan,
    }
    lines = [f"  uploads    {','.join(uploads)}   (UPLOAD_LOOKUP_PROVIDERS)"]
    for name in dict.fromkeys((*lookups, *uploads)):
        lines.append(f"    {name:<14} {status[name]() if name in status else 'in use'}")
    return lines
