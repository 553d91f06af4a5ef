from __future__ import annotations

import pytest
from pydantic import ValidationError

from prefill.settings import Settings, UnknownSettingError, load_settings


def test_defaults_are_embedded(monkeypatch):
    settings = load_settings()
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("var/prefill.sqlite3")
    assert settings.simulated


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("PREFILL_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("PREFILL_PORT", "9000")
    settings = load_settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.port == 9000
    assert load_settings(port=9100).port == 9100


def test_unknown_setting_is_named(monkeypatch):
    monkeypatch.setenv("PREFILL_DATABASE_ULR", "sqlite://")
    with pytest.raises(ValidationError, match="PREFILL_DATABASE_ULR") as caught:
        load_settings()
    assert isinstance(caught.value.errors()[0]["ctx"]["error"], UnknownSettingError)


@pytest.mark.parametrize(
    ("name", "value"),
    [("PREFILL_PORT", "eighty"), ("PREFILL_SOURCES_MODE", "magic"), ("PREFILL_LOG_LEVEL", "LOUD")],
)
def test_invalid_values_name_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        load_settings()
    assert name.removeprefix("PREFILL_").lower() in str(caught.value)


def test_settings_are_immutable():
    with pytest.raises(ValidationError):
        Settings().port = 1  # type: ignore[misc]
