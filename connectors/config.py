"""Source configuration: one entry per department source, loaded from data (``data/sources.yaml``).

Adding a field to a source is a new ``fields`` entry in the data file (request name, response path,
optional transform and code set); no code changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connectors.errors import ConfigError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credentials(_Model):
    app_key: str
    secret: str = Field(default="", repr=False)
    secret_env: str | None = None
    """Environment variable that, when set, overrides ``secret`` (production secrets are not data)."""
    signature_method: Literal["HMAC-SHA256", "HMAC-SM3"] = "HMAC-SHA256"

    def resolved_secret(self) -> str:
        if self.secret_env and os.environ.get(self.secret_env):
            return os.environ[self.secret_env]
        return self.secret


class RetryPolicy(_Model):
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_base_s: float = Field(default=0.05, ge=0)
    backoff_max_s: float = Field(default=1.0, ge=0)
    retry_on_status: tuple[int, ...] = (502, 503, 504)


class BreakerPolicy(_Model):
    failure_threshold: int = Field(default=5, ge=1)
    recovery_s: float = Field(default=30.0, gt=0)
    half_open_max_calls: int = Field(default=1, ge=1)


class CachePolicy(_Model):
    ttl_s: float = Field(default=300.0, ge=0)
    maxsize: int = Field(default=10_000, ge=1)


class MaintenanceWindow(_Model):
    """Either a recurring daily window (``start``/``end`` local times, optional ``days``) or a one-off
    window (``starts_at``/``ends_at``). A daily window whose end is before its start crosses midnight."""

    days: tuple[str, ...] = _WEEKDAYS
    start: time | None = None
    end: time | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str = "Asia/Shanghai"
    note: str = ""

    @field_validator("days")
    @classmethod
    def _days(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in v if d not in _WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekdays {bad}; use {_WEEKDAYS}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        daily = self.start is not None and self.end is not None
        once = self.starts_at is not None and self.ends_at is not None
        if daily == once:
            raise ValueError("give either start+end (daily) or starts_at+ends_at (one-off)")
        if once and (self.starts_at.tzinfo is None or self.ends_at.tzinfo is None):  # type: ignore[union-attr]
            raise ValueError("starts_at/ends_at need a UTC offset")
        return self

    def back_at(self, now: datetime) -> datetime | None:
        """When the source is back if ``now`` (aware) falls inside this window, else ``None``."""
        if self.starts_at is not None and self.ends_at is not None:
            return self.ends_at if self.starts_at <= now < self.ends_at else None
        assert self.start is not None and self.end is not None
        local = now.astimezone(ZoneInfo(self.timezone))
        # A window that crosses midnight may have started yesterday.
        for day_offset in (0, -1):
            day = local.date() + timedelta(days=day_offset)
            if _WEEKDAYS[day.weekday()] not in self.days:
                continue
            begin = datetime.combine(day, self.start, tzinfo=local.tzinfo)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            finish = datetime.combine(end_day, self.end, tzinfo=local.tzinfo)
            if begin <= local < finish:
                return finish
        return None


class FieldMapping(_Model):
    request: str
    """The source's own name for the field, sent in the request (the source returns only these)."""
    path: str
    """Dotted path of the value in the response's data object."""
    transform: Literal["date_yyyymmdd", "date_iso", "decimal_2", "strip"] | None = None
    code_set: str | None = None
    """Translation table (``data/code_sets.yaml``) from the source's code to the canonical code."""


class RequestShape(_Model):
    subject_field: str
    fields_field: str


class ResponseShape(_Model):
    status_path: str
    ok_values: tuple[str, ...]
    not_found_values: tuple[str, ...] = ()
    data_path: str
    version_path: str | None = None


class SourceConfig(_Model):
    id: str
    department: str
    description: str = ""
    base_url: str
    path: str
    method: Literal["POST", "GET"] = "POST"
    credentials: Credentials
    timeout_s: float = Field(default=2.0, gt=0)
    connect_timeout_s: float = Field(default=1.0, gt=0)
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    cache: CachePolicy = CachePolicy()
    max_concurrency: int = Field(default=16, ge=1)
    maintenance: tuple[MaintenanceWindow, ...] = ()
    request: RequestShape
    response: ResponseShape
    fields: Mapping[str, FieldMapping]

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + self.path

    @property
    def provides(self) -> frozenset[str]:
        return frozenset(self.fields)


def _default_path() -> Path:
    return Path(str(resources.files("connectors") / "data" / "sources.yaml"))


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path.name}: {exc.__class__.__name__}") from exc


def load_sources(
    path: str | Path | None = None,
    *,
    base_url_override: str | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, SourceConfig]:
    """Load and validate all source entries.

    ``base_url_override`` points every source at one server (the simulator, e.g. in tests or when it
    is mounted in-process); ``secrets`` maps source id → secret, overriding the data file.
    """
    raw = _read_yaml(Path(path) if path is not None else _default_path())
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), dict):
        raise ConfigError("sources file must have a 'sources' mapping")
    defaults: dict[str, Any] = raw.get("defaults") or {}
    out: dict[str, SourceConfig] = {}
    for source_id, entry in raw["sources"].items():
        data = {**defaults, **(entry or {}), "id": source_id}
        if base_url_override is not None:
            data["base_url"] = base_url_override
        if secrets and source_id in secrets:
            data["credentials"] = {**data.get("credentials", {}), "secret": secrets[source_id]}
        try:
            out[source_id] = SourceConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"source {source_id!r}: {exc.error_count()} invalid setting(s): {exc}") from exc
    return out
