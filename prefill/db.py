"""Database engine and migrations.

SQLite (embedded, the default) and PostgreSQL are both first-class: the same models, the same Alembic
migrations, the same tests.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel, create_engine

MIGRATIONS_PACKAGE = "prefill:migrations"


def import_models() -> None:
    """Import every module that declares tables so that ``SQLModel.metadata`` is complete."""
    from prefill import models  # noqa: F401


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; for SQLite, creates the file's directory and turns on WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if "poolclass" not in kwargs:
            # Keep a connection for each of FastAPI's 40 pool threads (the client-key lookup runs there):
            # with SQLAlchemy's default 5 (+10 overflow, closed on return), 16 concurrent prefills made
            # a new connection, and its pragmas, for about a third of the lookups (py-spy, bench/).
            kwargs = {"pool_size": 40, "max_overflow": 10, **kwargs}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if "poolclass" not in kwargs:
        # Fewer than SQLite (each is a server process), more than the default 5 that 16 concurrent
        # prefills outgrew: overflow connections are closed on return and opened again.
        kwargs = {"pool_size": 15, "max_overflow": 10, **kwargs}
    return create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_PACKAGE)
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    if make_url(url).get_backend_name() == "sqlite":
        make_engine(url).dispose()  # creates the directory of the file
    command.upgrade(alembic_config(url), revision)


def ping(engine: Engine) -> None:
    """Raise when the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def metadata() -> Any:
    import_models()
    return SQLModel.metadata


def migrations_path() -> Path:
    return Path(str(resources.files("prefill") / "migrations"))
