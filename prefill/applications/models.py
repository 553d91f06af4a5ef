"""Tables of submitted applications and their delivery outbox (migration 0004_applications).

Personal values live only in the encrypted blobs (:mod:`prefill.applications.crypto`); the clear
columns hold codes, pseudonyms and delivery bookkeeping.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

__all__ = ["ApplicationRow", "DeliveryRow"]


class ApplicationRow(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (sa.Index("ix_applications_subject_key", "subject_key"),)

    id: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    # SHA-256 of the prefill token's id and the canonical values: a repeated POST finds its application.
    submission_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    # One application per prefill: another set of values under the same token is refused.
    prefill_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    theme: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    matters: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON array of matter codes
    subject_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))  # keyed pseudonym
    client_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    status: str = Field(sa_column=sa.Column(sa.String(24), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    values_blob: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))


class DeliveryRow(SQLModel, table=True):
    """The outbox: one row per department form to deliver; the worker's whole state is here."""

    __tablename__ = "application_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "form", name="uq_application_deliveries_form"),
        sa.Index("ix_application_deliveries_due", "status", "next_attempt_at"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    application_id: str = Field(
        sa_column=sa.Column(
            sa.String(32), sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
        )
    )
    form: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    department: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    idempotency_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # pending|delivered|failed
    attempts: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    receipt_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    delivered_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )
    # The exact body to send, frozen at submission (a retry must send the same bytes under its key).
    payload_blob: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
