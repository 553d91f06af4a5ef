"""Tables of the audit log (joined to ``SQLModel.metadata``; migration 0002_audit_log creates them).

``audit_records`` and ``audit_checkpoints`` are append-only; on PostgreSQL triggers
forbid UPDATE, DELETE and TRUNCATE (see :mod:`audit.triggers`). ``audit_head`` holds the
single row the sequencer locks; it is a cache of the chain's head, verified against it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from audit.triggers import install_pg_triggers

__all__ = ["AuditCheckpointRow", "AuditHeadRow", "AuditRecordRow", "create_tables", "drop_tables"]


class AuditRecordRow(SQLModel, table=True):
    __tablename__ = "audit_records"
    __table_args__ = (
        sa.Index("ix_audit_records_subject_key", "subject_key"),
        sa.Index("ix_audit_records_time", "time"),
        sa.Index("ix_audit_records_requester_client_id", "requester_client_id"),
        sa.Index("ix_audit_records_requester_department", "requester_department"),
        sa.Index("ix_audit_records_source_name", "source_name"),
    )

    seq: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False))
    time: Any = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    request_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    requester_client_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    requester_role: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    requester_department: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    requester_operator_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    purpose_theme: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    purpose_matters: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON array of codes
    purpose_case_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    purpose_application_id: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(64), nullable=True)
    )
    purpose_legal_basis: str | None = Field(default=None, sa_column=sa.Column(sa.String(256), nullable=True))
    source_department: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    source_name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    source_service: str | None = Field(default=None, sa_column=sa.Column(sa.String(128), nullable=True))
    subject_display: str | None = Field(default=None, sa_column=sa.Column(sa.String(128), nullable=True))
    subject_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    fields: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON array of field codes
    outcome: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    latency_ms: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), nullable=True))
    restricted: bool = Field(sa_column=sa.Column(sa.Boolean(), nullable=False))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(128), nullable=True))
    prev_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


class AuditCheckpointRow(SQLModel, table=True):
    __tablename__ = "audit_checkpoints"
    __table_args__ = (sa.Index("ix_audit_checkpoints_seq", "seq"),)

    id: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=True))
    seq: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    head_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    time: Any = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    key_id: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    signature: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))


class AuditHeadRow(SQLModel, table=True):
    __tablename__ = "audit_head"

    id: int = Field(sa_column=sa.Column(sa.Integer(), primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


records_table: sa.Table = AuditRecordRow.__table__  # type: ignore[attr-defined]
checkpoints_table: sa.Table = AuditCheckpointRow.__table__  # type: ignore[attr-defined]
head_table: sa.Table = AuditHeadRow.__table__  # type: ignore[attr-defined]
TABLES = (records_table, checkpoints_table, head_table)


def create_tables(bind: Engine | Connection) -> None:
    """Create the audit tables without Alembic (tests, tools) and, on PostgreSQL, the append-only triggers."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            create_tables(connection)
        return
    SQLModel.metadata.create_all(bind, tables=list(TABLES))
    if bind.dialect.name == "postgresql":
        install_pg_triggers(bind)


def drop_tables(bind: Engine | Connection) -> None:
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            drop_tables(connection)
        return
    SQLModel.metadata.drop_all(bind, tables=list(TABLES))
