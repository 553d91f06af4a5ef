"""Shared fixtures: a fresh database per test on the engine under test.

The suite runs on SQLite by default. With ``PREFILL_TEST_DATABASE_URL`` set to a PostgreSQL URL (CI's
second run), every database test runs on a fresh PostgreSQL database made for this session instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TEST_DATABASE_URL_VAR = "PREFILL_TEST_DATABASE_URL"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server_url() -> str | None:
    return os.environ.get(TEST_DATABASE_URL_VAR) or None


def _create_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"prefill_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_database(server_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path, postgres_server_url: str | None) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database when one is configured."""
    if postgres_server_url is None:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url = _create_database(postgres_server_url)
    try:
        yield url
    finally:
        _drop_database(postgres_server_url, url)
