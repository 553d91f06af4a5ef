"""Migration 0002_audit_log creates exactly the tables audit.models declares (and the PG triggers)."""

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import audit.models
from audit.models import drop_tables

MIGRATION = Path(__file__).resolve().parents[2] / "prefill" / "migrations" / "versions" / "0002_audit_log.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("migration_0002_audit_log", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_migration(engine, direction):
    module = load_migration()
    with engine.begin() as connection:
        context = MigrationContext.configure(connection)
        with Operations.context(context):
            getattr(module, direction)()


def audit_only(obj, name, type_, reflected, compare_to):
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", "")
    return str(table_name).startswith("audit_")


def test_revision_identifiers():
    module = load_migration()
    assert module.revision == "0002_audit_log"
    assert module.down_revision == "0001_base"


def test_migration_matches_models(db):
    drop_tables(db.engine)
    run_migration(db.engine, "upgrade")
    assert audit.models.records_table.metadata is SQLModel.metadata
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": audit_only, "compare_type": True, "compare_server_default": True},
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    if db.dialect == "postgresql":
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as connection:
            connection.execute(sa.text("TRUNCATE audit_records"))
    run_migration(db.engine, "downgrade")
    assert not {"audit_records", "audit_checkpoints", "audit_head"} & set(
        sa.inspect(db.engine).get_table_names()
    )
