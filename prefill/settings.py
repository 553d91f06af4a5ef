"""The one settings object of the service (pydantic-settings, ``PREFILL_`` prefix).

Unknown ``PREFILL_*`` variables are refused by name: a misspelt setting silently falling back to its
default is how a production service ends up on development keys.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "PREFILL_"
DEFAULT_DATA_DIR = Path("var")


# Development values: fine with the simulator, refused in production.
DEV_PSEUDONYM_KEY = "dev-pseudonym-key-not-for-production"
DEV_TOKEN_KEY = "dev-token-key-not-for-production"  # noqa: S105 - development value
DEV_AUDIT_SEED = "dev-audit-seed-not-for-production"
DEV_DATA_KEY = "00" * 32
DEV_LIBRARY_SECRET = "dev-secret-ecert"  # noqa: S105 - the simulator's development secret
DEV_CLIENT_KEY_PEPPER = "dev-client-key-pepper-not-for-production"
DEV_ACCEPTANCE_SECRET = "dev-secret-acceptance"  # noqa: S105 - the simulator's development secret
DEV_SECRETS = frozenset(
    {
        DEV_PSEUDONYM_KEY,
        DEV_TOKEN_KEY,
        DEV_AUDIT_SEED,
        DEV_DATA_KEY,
        DEV_LIBRARY_SECRET,
        DEV_CLIENT_KEY_PEPPER,
        DEV_ACCEPTANCE_SECRET,
    }
)
# Words that mark a secret as not yet set (checked case-insensitively in production).
_PLACEHOLDER_MARKS = ("change", "placeholder", "not-for-production", "example", "dummy", "todo", "xxx")
MIN_SECRET_CHARS = 16


class SourcesMode(StrEnum):
    """Where department data comes from."""

    simulated = "simulated"  # the built-in simulator, started beside the service
    configured = "configured"  # real department endpoints from the sources file


class Environment(StrEnum):
    """Development accepts development secrets and the simulator; production refuses both."""

    development = "development"
    production = "production"


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
        default=8701,
        ge=0,
        le=65535,
        description="Port of the in-process simulated sources (0: any free port).",
    )
    sources_file: Path | None = Field(
        default=None, description="Department sources (connectors' YAML); the packaged one when unset."
    )
    sources_base_url: str | None = Field(
        default=None,
        description="Points every source at one base URL (the simulator); from the file when unset.",
    )
    certificate_library_url: str | None = Field(
        default=None, description="Base URL of the e-certificate library; the sources' base URL when unset."
    )
    certificate_library_app_key: str = Field(
        default="prefill-ecert", description="Our app key at the library."
    )
    certificate_library_secret: SecretStr = Field(
        default=SecretStr(DEV_LIBRARY_SECRET), description="HMAC secret of our app key at the library."
    )
    acceptance_url: str | None = Field(
        default=None,
        description="Base URL of the unified acceptance platform; the sources' base URL (or the simulator's) "
        "when unset.",
    )
    acceptance_app_key: str = Field(
        default="prefill-acceptance", description="Our app key at the unified acceptance platform."
    )
    acceptance_secret: SecretStr = Field(
        default=SecretStr(DEV_ACCEPTANCE_SECRET),
        description="HMAC secret of our app key at the unified acceptance platform.",
    )
    prefill_deadline_s: float = Field(
        default=2.0, gt=0, le=30, description="One deadline for all source reads of a prefill."
    )
    prefill_token_ttl_s: int = Field(
        default=1800, gt=0, description="How long a prefill token (and its locked values) stays valid."
    )
    pseudonym_key: SecretStr = Field(
        default=SecretStr(DEV_PSEUDONYM_KEY),
        description="Key of the keyed pseudonyms of identifiers (audit lookups, cache keys, rate limits).",
    )
    token_key: SecretStr = Field(default=SecretStr(DEV_TOKEN_KEY), description="Signs prefill tokens.")
    audit_signing_seed: SecretStr = Field(
        default=SecretStr(DEV_AUDIT_SEED), description="Seed of the Ed25519 key signing audit checkpoints."
    )
    audit_checkpoint_every: int = Field(
        default=1000, gt=0, description="Sign a checkpoint each time the audit log grows by this many."
    )
    audit_checkpoint_interval_s: float = Field(
        default=60.0, gt=0, description="Also sign a checkpoint this often when the log has grown."
    )
    data_encryption_key: SecretStr = Field(
        default=SecretStr(DEV_DATA_KEY), description="AES-256-GCM key (64 hex) for personal values at rest."
    )
    environment: Environment = Field(
        default=Environment.development,
        description="production refuses development or placeholder secrets and the simulated sources.",
    )
    client_key_pepper: SecretStr = Field(
        default=SecretStr(DEV_CLIENT_KEY_PEPPER),
        description="HMAC key under which client keys are stored (kept out of the database).",
    )
    dev_seed: str = Field(
        default="prefill development clients",
        description="Simulated mode only: derives the demo clients' keys (`prefill dev credentials`).",
    )
    assertion_issuer: str = Field(
        default="", description="`iss` of applicant assertions; the simulated identity platform's when unset."
    )
    assertion_audience: str = Field(default="prefill-service", description="`aud` applicant assertions name.")
    assertion_keys: str = Field(
        default="",
        description="Identity platform's public keys (JWKS JSON, PEM or a file); simulator's when unset.",
    )
    assertion_max_age_s: int = Field(
        default=900, gt=0, le=86400, description="Oldest applicant assertion accepted (from its `iat`)."
    )
    rate_limit_client_per_minute: int = Field(default=600, gt=0, description="Requests a minute per client.")
    rate_limit_subject_per_minute: int = Field(
        default=30, gt=0, description="Requests a minute concerning one applicant."
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

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        """Production never starts on development secrets, placeholders or the simulator."""
        if self.environment is not Environment.production:
            return self
        problems = []
        if self.sources_mode is SourcesMode.simulated:
            problems.append("sources_mode must be configured (not simulated)")
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and _is_placeholder(value.get_secret_value()):
                problems.append(f"{name} is a development or placeholder value")
        for name in ("assertion_issuer", "assertion_keys"):
            if not getattr(self, name).strip():
                problems.append(f"{name} must be set")
        if problems:
            raise ValueError("production configuration refused: " + "; ".join(problems))
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'prefill.sqlite3').as_posix()}"

    @property
    def simulated(self) -> bool:
        return self.sources_mode is SourcesMode.simulated


def _is_placeholder(secret: str) -> bool:
    lowered = secret.strip().lower()
    return (
        secret in DEV_SECRETS
        or len(lowered) < MIN_SECRET_CHARS
        or len(set(lowered)) <= 2
        or any(mark in lowered for mark in _PLACEHOLDER_MARKS)
    )


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, with explicit overrides (CLI flags) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
