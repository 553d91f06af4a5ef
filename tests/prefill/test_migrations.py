"""Migrations and models agree, on the engine under test (SQLite, or PostgreSQL in CI's second run)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from prefill import db


def test_migrations_match_the_models(database_url):
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, db.metadata())
            head = ScriptDirectory.from_config(db.alembic_config(database_url)).get_current_head()
            assert context.get_current_revision() == head
        assert differences == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_creates_every_table(database_url):
    db.upgrade(database_url)
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(db.metadata().tables) <= tables
        assert "alembic_version" in tables
    finally:
        engine.dispose()


def test_one_head():
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
