"""The shared-field registry: fields (current row), their versions, mapping and waiver rules, admin trail.

Revision ID: 0005_registry
Revises: 0004_applications
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_registry"
down_revision: str | None = "0004_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "registry_fields",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("codeset", sa.String(64), nullable=True),
        sa.Column("sensitivity", sa.String(16), nullable=False),
        sa.Column("masking", sa.String(16), nullable=True),
        sa.Column("sharing_class", sa.String(16), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("request_name", sa.String(64), nullable=False),
        sa.Column("response_path", sa.String(200), nullable=False),
        sa.Column("transform", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.Column("created_by", sa.String(64), nullable=False),
        _when("updated_at"),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "registry_field_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        _when("changed_at"),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "version", name="uq_registry_field_versions_code_version"),
    )
    op.create_table(
        "registry_mapping_rules",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("field_code", sa.String(64), nullable=False),
        sa.Column("merged_field", sa.String(64), nullable=False),
        sa.Column("original_form", sa.String(64), nullable=True),
        sa.Column("original_field", sa.String(100), nullable=True),
        sa.Column("original_codeset", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("active_key", sa.String(140), nullable=True),
        _when("created_at"),
        sa.Column("created_by", sa.String(64), nullable=False),
        _when("retired_at", nullable=True),
        sa.Column("retired_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
    )
    op.create_index("ix_registry_mapping_rules_field_code", "registry_mapping_rules", ["field_code"])
    op.create_table(
        "registry_waiver_rules",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("material", sa.String(64), nullable=False),
        sa.Column("certificate", sa.String(64), nullable=True),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _when("created_at"),
        sa.Column("created_by", sa.String(64), nullable=False),
        _when("retired_at", nullable=True),
        sa.Column("retired_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "registry_admin_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _when("at"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_department", sa.String(64), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("registry_admin_events")
    op.drop_table("registry_waiver_rules")
    op.drop_index("ix_registry_mapping_rules_field_code", table_name="registry_mapping_rules")
    op.drop_table("registry_mapping_rules")
    op.drop_table("registry_field_versions")
    op.drop_table("registry_fields")
