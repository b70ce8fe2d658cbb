"""The local stack's choice of providers when no Baichuan key is given."""

from __future__ import annotations

from local.stack import keyless_providers

DEFAULTS = {
    "LOOKUP_PROVIDERS": "openfoodfacts,openlibrary,baichuan",
    "UPLOAD_LOOKUP_PROVIDERS": "openlibrary,baichuan",
}


def test_without_a_key_the_keyless_providers_answer_and_the_banner_says_so() -> None:
    environment = dict(DEFAULTS)
    note = keyless_providers(environment, {})
    assert environment == {
        "LOOKUP_PROVIDERS": "openfoodfacts,openlibrary",
        "UPLOAD_LOOKUP_PROVIDERS": "openlibrary",
    }
    assert "no LOOKUP_API_KEY" in note
    assert "openfoodfacts,openlibrary" in note


def test_a_key_or_an_explicit_list_keeps_the_configured_providers() -> None:
    for shell in ({"LOOKUP_API_KEY": "k"}, {"LOOKUP_PROVIDERS": "baichuan"}):
        environment = dict(DEFAULTS)
        note = keyless_providers(environment, shell)
        assert environment == DEFAULTS
        assert note == f"  providers  {DEFAULTS['LOOKUP_PROVIDERS']}"


def test_an_upload_list_of_only_baichuan_falls_back_to_open_library() -> None:
    environment = {"LOOKUP_PROVIDERS": "baichuan", "UPLOAD_LOOKUP_PROVIDERS": "baichuan"}
    keyless_providers(environment, {})
    assert environment == {
        "LOOKUP_PROVIDERS": "openlibrary",
        "UPLOAD_LOOKUP_PROVIDERS": "openlibrary",
    }


def test_the_banner_names_each_provider_and_what_it_has_or_lacks() -> None:
    from local.providers import provider_lines

    environment = {
        "LOOKUP_PROVIDERS": "openbeautyfacts,openlibrary,upcitemdb,baichuan",
        "UPLOAD_LOOKUP_PROVIDERS": "openlibrary",
    }
    lines = provider_lines(environment, {"lookup": {"api_key": ""}})
    assert lines == [
        "  uploads    openlibrary   (UPLOAD_LOOKUP_PROVIDERS)",
        "    openfoodfacts  keyless; Open Food Facts, Beauty, Pet Food and Products Facts in one "
        "call, 100 a minute",
        "    openlibrary    keyless; NO PROVIDER_CONTACT: Open Library may refuse calls without "
        "one, 60 a minute",
        "    upcitemdb      trial (no UPCITEMDB_USER_KEY), 100 calls a day for the whole stack",
        "    baichuan       paid; NO LOOKUP_API_KEY: answers upstream_not_configured",
    ]
    ready = provider_lines(
        {**environment, "PROVIDER_CONTACT": "ops@example.com", "UPCITEMDB_DAILY_LIMIT": "0"},
        {"lookup": {"api_key": "k"}, "upcitemdb": {"user_key": "u"}},
    )
    assert ready[2:] == [
        "    openlibrary    keyless; contact ops@example.com sent, 180 a minute",
        "    upcitemdb      paid plan (UPCITEMDB_USER_KEY), no daily cap",
        "    baichuan       paid; LOOKUP_API_KEY set",
    ]
    assert provider_lines({"LOOKUP_PROVIDERS": "nope"}, {}) == []


def test_a_upcitemdb_key_in_the_shell_goes_into_the_secret() -> None:
    from local.stack import upstream_secret

    assert upstream_secret({"UPCITEMDB_USER_KEY": "u"})["upcitemdb"] == {"user_key": "u"}
    assert "upcitemdb" not in upstream_secret({})


def test_the_banner_says_what_the_community_catalog_does() -> None:
    from local.providers import provider_lines

    environment = {"LOOKUP_PROVIDERS": "community", "UPLOAD_LOOKUP_PROVIDERS": "openlibrary"}
    (_, community, _) = provider_lines(environment, {})
    assert community == (
        "    community      your users' contributions, published when 2 agree; "
        "sharing off (COMMUNITY_SHARE_OPENFOODFACTS)"
    )
    sharing = {**environment, "COMMUNITY_SHARE_OPENFOODFACTS": "true"}
    assert provider_lines(sharing, {})[1].endswith("on, but NO OPENFOODFACTS_USER_ID: not sent")
    account = {"openfoodfacts": {"user_id": "bot", "password": "pw"}}
    assert provider_lines(sharing, account)[1].endswith("sharing on")
