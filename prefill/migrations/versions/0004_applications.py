"""Submitted applications (values encrypted) and their delivery outbox.

Revision ID: 0004_applications
Revises: 0003_clients
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_applications"
down_revision: str | None = "0003_clients"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("submission_key", sa.String(64), nullable=False),
        sa.Column("prefill_id", sa.String(64), nullable=False),
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("matters", sa.Text(), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("values_blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
        sa.UniqueConstraint("prefill_id"),
    )
    op.create_index("ix_applications_subject_key", "applications", ["subject_key"])
    op.create_table(
        "application_deliveries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(64), nullable=True),
        sa.Column("receipt_id", sa.String(64), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload_blob", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "form", name="uq_application_deliveries_form"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_application_deliveries_due", "application_deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_application_deliveries_due", table_name="application_deliveries")
    op.drop_table("application_deliveries")
    op.drop_index("ix_applications_subject_key", table_name="applications")
    op.drop_table("applications")
