"""Audit log benchmark: durable append throughput (group commit) and verification throughput.

Usage: .venv/bin/python bench/audit_bench.py [--records N] [--concurrency C]
PostgreSQL is measured when reachable at PREFILL_BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); a scratch database is created and dropped.
Figures are printed, never asserted. Targets: verify >= 100,000 records/s; durable append >= 5,000 records/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine, make_url

from audit import AuditEvent, AuditLog, Outcome, Purpose, Requester, SourceRef, Subject, generate_signing_key
from audit.chain import ChainVerifier
from audit.models import create_tables, drop_tables
from audit.store import _VERIFY_SQL
from masking import pseudonym

KEY = b"bench-pseudonym-key-0123456789abcdef"


def event(n: int) -> AuditEvent:
    id_number = f"4201061990{n % 10**8:08d}"[:18]
    return AuditEvent(
        requester=Requester(client_id="frontend-1", role="frontend", department="data_bureau"),
        purpose=Purpose(
            theme="flexible_employment", matters=("employment_registration",), legal_basis="plan-5.1"
        ),
        source=SourceRef(department="psb", source="psb_identity", service="query"),
        subject=Subject(display="4***************34", key=pseudonym(id_number, KEY)),
        fields=("name", "gender", "birth_date", "ethnicity"),
        outcome=Outcome.OK,
        latency_ms=n % 80,
        request_id=f"req-{n}",
    )


def sqlite_engine(path: Path, synchronous: str) -> Engine:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return engine


async def append_throughput(
    engine: Engine, key: Ed25519PrivateKey, records: int, concurrency: int
) -> tuple[float, float]:
    log = AuditLog(engine, signing_key=key, checkpoint_every=1000)
    events = [event(n) for n in range(records)]
    queue: asyncio.Queue[AuditEvent] = asyncio.Queue()
    for item in events:
        queue.put_nowait(item)

    async def appender() -> None:
        while not queue.empty():
            await log.append(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(appender() for _ in range(concurrency)))
    grouped = records / (time.perf_counter() - started)

    single = min(records, 500)
    started = time.perf_counter()
    for n in range(single):
        await log.append(events[n])  # one appender: one transaction per record
    sequential = single / (time.perf_counter() - started)
    await log.aclose()
    return grouped, sequential


def verify_throughput(engine: Engine, key: Ed25519PrivateKey) -> tuple[float, int]:
    log = AuditLog(engine, public_keys=[key.public_key()])  # the verifier holds only the public key
    started = time.perf_counter()
    result = log.store.verify()
    elapsed = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"verification failed: {result.reason}")
    return result.records / elapsed, result.records


def cpu_verify_throughput(engine: Engine) -> float:
    """The verifier alone on driver rows already in memory (what ``AuditStore.verify`` feeds it)."""
    store = AuditLog(engine).store
    with engine.connect() as connection:
        rows = list(connection.exec_driver_sql(_VERIFY_SQL))
    time_text, to_record = store._row_decoders()
    verifier = ChainVerifier([])
    started = time.perf_counter()
    verifier.add_rows(rows, time_text, to_record)
    elapsed = time.perf_counter() - started
    if not verifier.result().ok:
        raise SystemExit("verification failed")
    return len(rows) / elapsed


def report(name: str, engine: Engine, records: int, concurrency: int) -> None:
    drop_tables(engine)
    create_tables(engine)
    key = generate_signing_key()
    grouped, sequential = asyncio.run(append_throughput(engine, key, records, concurrency))
    rate, count = verify_throughput(engine, key)
    cpu = cpu_verify_throughput(engine)
    print(f"{name}:")
    print(f"  append, group commit ({concurrency} concurrent appenders): {grouped:10,.0f} records/s")
    print(f"  append, one appender (a transaction per record):      {sequential:10,.0f} records/s")
    print(f"  verify from the database ({count:,} records):          {rate:10,.0f} records/s")
    print(f"  verify, hashing only (rows in memory):                 {cpu:10,.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for synchronous in ("FULL", "NORMAL"):
            engine = sqlite_engine(Path(tmp) / f"bench-{synchronous}.db", synchronous)
            report(f"SQLite (WAL, synchronous={synchronous})", engine, args.records, args.concurrency)
            engine.dispose()
    base = os.environ.get("PREFILL_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        name = f"prefill_audit_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        print("PostgreSQL: not reachable, skipped")
        return
    engine = sa.create_engine(make_url(base).set(database=name))
    try:
        report("PostgreSQL (synchronous_commit=on)", engine, args.records, args.concurrency)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
