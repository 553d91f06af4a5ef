"""Audit log: hash-chained records, signed checkpoints, the sequencer's head row.

On PostgreSQL, triggers make audit_records and audit_checkpoints append-only (no UPDATE,
DELETE or TRUNCATE). The statements are a frozen copy of audit/triggers.py.

Revision ID: 0002_audit_log
Revises: 0001_base
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_audit_log"
down_revision: str | None = "0001_base"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TABLES = ("audit_records", "audit_checkpoints")

FORBID_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % is forbidden', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("requester_client_id", sa.String(64), nullable=False),
        sa.Column("requester_role", sa.String(32), nullable=False),
        sa.Column("requester_department", sa.String(64), nullable=True),
        sa.Column("requester_operator_id", sa.String(64), nullable=True),
        sa.Column("purpose_theme", sa.String(64), nullable=True),
        sa.Column("purpose_matters", sa.Text(), nullable=False),
        sa.Column("purpose_case_id", sa.String(64), nullable=True),
        sa.Column("purpose_application_id", sa.String(64), nullable=True),
        sa.Column("purpose_legal_basis", sa.String(256), nullable=True),
        sa.Column("source_department", sa.String(64), nullable=False),
        sa.Column("source_name", sa.String(64), nullable=False),
        sa.Column("source_service", sa.String(128), nullable=True),
        sa.Column("subject_display", sa.String(128), nullable=True),
        sa.Column("subject_key", sa.String(64), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(128), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_records_subject_key", "audit_records", ["subject_key"])
    op.create_index("ix_audit_records_time", "audit_records", ["time"])
    op.create_index("ix_audit_records_requester_client_id", "audit_records", ["requester_client_id"])
    op.create_index("ix_audit_records_requester_department", "audit_records", ["requester_department"])
    op.create_index("ix_audit_records_source_name", "audit_records", ["source_name"])

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_checkpoints_seq", "audit_checkpoints", ["seq"])

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(FORBID_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_forbid_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_forbid_change()")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_checkpoints_seq", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_records_source_name", table_name="audit_records")
    op.drop_index("ix_audit_records_requester_department", table_name="audit_records")
    op.drop_index("ix_audit_records_requester_client_id", table_name="audit_records")
    op.drop_index("ix_audit_records_time", table_name="audit_records")
    op.drop_index("ix_audit_records_subject_key", table_name="audit_records")
    op.drop_table("audit_records")
