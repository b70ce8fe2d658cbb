import pytest

from barcode_service.settings import SettingsError, load_settings


def test_defaults_match_the_contract() -> None:
    settings = load_settings({})
    assert settings.generate_api_url == "https://api.gugudata.com/barcode/barcode"
    assert settings.lookup_api_url == "https://tiaoma.cnaidc.com/api/api_query.php"
    assert settings.generate_backend == "auto"
    assert settings.found_ttl_seconds == 30 * 86400
    assert settings.not_found_ttl_seconds == 86400


def test_reads_environment_names_upper_case() -> None:
    settings = load_settings({"CACHE_TABLE": "t", "GENERATE_BACKEND": "local", "SECRET_ID": ""})
    assert settings.cache_table == "t"
    assert settings.generate_backend == "local"
    assert settings.secret_id == ""


def test_bad_value_names_the_variable_not_the_value() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"GENERATE_BACKEND": "s3cr3t-value", "UPSTREAM_ATTEMPTS": "x"})
    message = str(info.value)
    assert "GENERATE_BACKEND" in message
    assert "UPSTREAM_ATTEMPTS" in message
    assert "s3cr3t" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("UPSTREAM_ATTEMPTS", "0"),
        ("UPSTREAM_ATTEMPTS", "6"),
        ("UPSTREAM_DEADLINE", "0"),
        ("UPSTREAM_DEADLINE", "nan"),
        ("UPSTREAM_DEADLINE", "inf"),
        ("FOUND_TTL_SECONDS", "-1"),
        ("FOUND_TTL_SECONDS", "1.5"),
        ("GENERATE_REQUEST_MODE", "ftp"),
    ],
)
def test_out_of_bounds_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_numbers_are_typed() -> None:
    settings = load_settings({"UPSTREAM_ATTEMPTS": " 5 ", "UPSTREAM_DEADLINE": "2.5"})
    assert settings.upstream_attempts == 5
    assert isinstance(settings.upstream_attempts, int)
    assert settings.upstream_deadline == 2.5
