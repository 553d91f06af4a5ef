"""The one settings object of the service (pydantic-settings, ``PREFILL_`` prefix).

Unknown ``PREFILL_*`` variables are refused by name: a misspelt setting silently falling back to its
default is how a production service ends up on development keys.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "PREFILL_"
DEFAULT_DATA_DIR = Path("var")


class SourcesMode(StrEnum):
    """Where department data comes from."""

    simulated = "simulated"  # the built-in simulator, started beside the service
    configured = "configured"  # real department endpoints from the sources file


class UnknownSettingError(ValueError):
    """A ``PREFILL_`` variable that names no setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means an embedded SQLite file under data_dir.",
    )
    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Where embedded state lives.")
    host: str = Field(default="127.0.0.1", description="Address `prefill serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `prefill serve` binds.")
    sources_mode: SourcesMode = Field(default=SourcesMode.simulated, description="simulated or configured.")
    simulator_port: int = Field(
        default=8001, ge=1, le=65535, description="Port of the in-process simulated sources."
    )
    catalog_dir: Path | None = Field(
        default=None, description="Directory of theme catalogues; the packaged one when unset."
    )
    max_body_bytes: int = Field(default=64 * 1024, gt=0, description="Largest request body accepted.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_environment(cls, data: Any) -> Any:
        known = {ENV_PREFIX + name.upper() for name in cls.model_fields}
        unknown = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
        # Test-only variables are read by the test suite, never by the service.
        unknown = [k for k in unknown if not k.startswith(ENV_PREFIX + "TEST_")]
        if unknown:
            raise UnknownSettingError(f"unknown setting(s): {', '.join(unknown)}")
        return data

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'prefill.sqlite3').as_posix()}"

    @property
    def simulated(self) -> bool:
        return self.sources_mode is SourcesMode.simulated


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, with explicit overrides (CLI flags) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
