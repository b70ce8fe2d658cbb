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
