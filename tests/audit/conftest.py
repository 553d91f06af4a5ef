"""Database fixtures for the audit tests: SQLite always, PostgreSQL when PREFILL_TEST_DATABASE_URL is set.

For PostgreSQL a fresh, uniquely named database is created for the session (through an
AUTOCOMMIT connection to the given URL) and dropped at the end. Each test gets empty
audit tables, created from the SQLModel metadata plus the append-only triggers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from audit.chain import generate_signing_key
from audit.models import create_tables, drop_tables
from audit.schemas import AuditEvent, Outcome, Purpose, Requester, SourceRef, Subject
from masking import pseudonym

PG_ENV = "PREFILL_TEST_DATABASE_URL"
PSEUDONYM_KEY = b"audit-tests-pseudonym-key-0123456789"


def sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def make_test_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        return sqlite_engine(url)
    return sa.create_engine(url)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    base = os.environ.get(PG_ENV)
    if not base:
        yield None
        return
    name = f"prefill_audit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@dataclass
class Database:
    url: str
    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path, pg_url) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        if pg_url is None:
            pytest.skip(f"{PG_ENV} not set")
        url = pg_url
    engine = make_test_engine(url)
    drop_tables(engine)
    create_tables(engine)
    try:
        yield Database(url, engine)
    finally:
        engine.dispose()


@pytest.fixture
def signing_key():
    return generate_signing_key()


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


FRONTEND = Requester(client_id="frontend-1", role="frontend", department="data_bureau")
AUDITOR = Requester(client_id="auditor-1", role="auditor", department="data_bureau")


def subject_of(id_number: str) -> Subject:
    return Subject.from_id_number(id_number, PSEUDONYM_KEY)


def subject_key(id_number: str) -> str:
    return pseudonym(id_number, PSEUDONYM_KEY)


def make_event(
    n: int = 0,
    *,
    id_number: str = "420106199001011234",
    source: str = "psb_identity",
    department: str = "psb",
    outcome: Outcome = Outcome.OK,
    requester: Requester = FRONTEND,
    matters: tuple[str, ...] = ("employment_registration",),
    restricted: bool = False,
    time: datetime | None = None,
) -> AuditEvent:
    return AuditEvent(
        requester=requester,
        purpose=Purpose(theme="flexible_employment", matters=matters, legal_basis="plan-5.1"),
        source=SourceRef(department=department, source=source, service="query"),
        subject=subject_of(id_number),
        fields=("name", "gender", "birth_date"),
        outcome=outcome,
        latency_ms=n % 50,
        request_id=f"req-{n}",
        restricted=restricted,
        time=time,
    )


@pytest.fixture
def h() -> Any:
    """Helpers for test modules (which cannot import conftest under --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(
        FRONTEND=FRONTEND,
        AUDITOR=AUDITOR,
        make_event=make_event,
        subject_of=subject_of,
        subject_key=subject_key,
        make_test_engine=make_test_engine,
    )
