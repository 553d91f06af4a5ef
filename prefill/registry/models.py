"""Registry tables (migration 0005_registry creates them).

``registry_fields`` holds the current row of each field; its ``version`` is the optimistic-concurrency
token (every UPDATE is ``WHERE version = :expected``). ``registry_field_versions`` is the append-only
history, one row per version. ``registry_admin_events`` is the administrative audit trail of every
registry change: who, what, when, from which state to which — registry data is metadata, never a
personal value. Its highest id is the registry's *generation*: the prefill flow rebuilds its effective
catalogue and sources when it moves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

__all__ = [
    "RegistryAdminEventRow",
    "RegistryFieldRow",
    "RegistryFieldVersionRow",
    "RegistryMappingRuleRow",
    "RegistryWaiverRuleRow",
]


def _text(length: int, *, nullable: bool = False, **kw: Any) -> Any:
    return sa.Column(sa.String(length), nullable=nullable, **kw)


def _when(*, nullable: bool = False) -> Any:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable)


class RegistryFieldRow(SQLModel, table=True):
    __tablename__ = "registry_fields"

    code: str = Field(sa_column=_text(64, primary_key=True))
    theme: str = Field(sa_column=_text(64))
    department: str = Field(sa_column=_text(64))
    label: str = Field(sa_column=_text(100))
    description: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    type: str = Field(sa_column=_text(16))
    codeset: str | None = Field(default=None, sa_column=_text(64, nullable=True))
    sensitivity: str = Field(sa_column=_text(16))
    masking: str | None = Field(default=None, sa_column=_text(16, nullable=True))
    sharing_class: str = Field(sa_column=_text(16))
    legal_basis: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    source: str = Field(sa_column=_text(64))
    request_name: str = Field(sa_column=_text(64))
    response_path: str = Field(sa_column=_text(200))
    transform: str | None = Field(default=None, sa_column=_text(16, nullable=True))
    state: str = Field(sa_column=_text(16))
    version: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    created_at: datetime = Field(sa_column=_when())
    created_by: str = Field(sa_column=_text(64))
    updated_at: datetime = Field(sa_column=_when())
    updated_by: str = Field(sa_column=_text(64))


class RegistryFieldVersionRow(SQLModel, table=True):
    __tablename__ = "registry_field_versions"
    __table_args__ = (sa.UniqueConstraint("code", "version", name="uq_registry_field_versions_code_version"),)

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=True)
    )
    code: str = Field(sa_column=_text(64))
    version: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    state: str = Field(sa_column=_text(16))
    change: str = Field(sa_column=_text(32))
    snapshot: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    changed_at: datetime = Field(sa_column=_when())
    changed_by: str = Field(sa_column=_text(64))


class RegistryMappingRuleRow(SQLModel, table=True):
    """Which merged-form field a registry field fills, and which original-form field that fills."""

    __tablename__ = "registry_mapping_rules"

    id: str = Field(sa_column=_text(32, primary_key=True))
    theme: str = Field(sa_column=_text(64))
    field_code: str = Field(sa_column=_text(64, index=True))
    merged_field: str = Field(sa_column=_text(64))
    original_form: str | None = Field(default=None, sa_column=_text(64, nullable=True))
    original_field: str | None = Field(default=None, sa_column=_text(100, nullable=True))
    original_codeset: str | None = Field(default=None, sa_column=_text(64, nullable=True))
    state: str = Field(sa_column=_text(16))
    # "theme:merged_field" while active, NULL once retired: the unique constraint lets at most one
    # active rule fill a merged-form field, even under concurrent writes (NULLs never collide).
    active_key: str | None = Field(default=None, sa_column=_text(140, nullable=True, unique=True))
    created_at: datetime = Field(sa_column=_when())
    created_by: str = Field(sa_column=_text(64))
    retired_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    retired_by: str | None = Field(default=None, sa_column=_text(64, nullable=True))


class RegistryWaiverRuleRow(SQLModel, table=True):
    """Material M is waived when certificate type C is verified, or when fields F of source S are."""

    __tablename__ = "registry_waiver_rules"

    id: str = Field(sa_column=_text(32, primary_key=True))
    theme: str = Field(sa_column=_text(64))
    material: str = Field(sa_column=_text(64))
    certificate: str | None = Field(default=None, sa_column=_text(64, nullable=True))
    source: str | None = Field(default=None, sa_column=_text(64, nullable=True))
    fields: list[str] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    state: str = Field(sa_column=_text(16))
    created_at: datetime = Field(sa_column=_when())
    created_by: str = Field(sa_column=_text(64))
    retired_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    retired_by: str | None = Field(default=None, sa_column=_text(64, nullable=True))


class RegistryAdminEventRow(SQLModel, table=True):
    __tablename__ = "registry_admin_events"

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=True)
    )
    at: datetime = Field(sa_column=_when())
    actor: str = Field(sa_column=_text(64))
    actor_role: str = Field(sa_column=_text(16))
    actor_department: str | None = Field(default=None, sa_column=_text(64, nullable=True))
    action: str = Field(sa_column=_text(32))
    entity: str = Field(sa_column=_text(16))
    entity_id: str = Field(sa_column=_text(64))
    version: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True))
    from_state: str | None = Field(default=None, sa_column=_text(16, nullable=True))
    to_state: str | None = Field(default=None, sa_column=_text(16, nullable=True))
