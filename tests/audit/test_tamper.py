"""A DBA with full power edits the tables; verification must notice and name the first bad seq."""

import asyncio

import pytest
import sqlalchemy as sa
import sqlalchemy.exc

from audit import AuditLog
from audit.chain import record_document, record_hash
from audit.models import head_table, records_table


def build_log(db, signing_key, clock, h, count=12, checkpoint_every=None):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock, checkpoint_every=checkpoint_every)
        for start in range(0, count, 4):  # batches of 4, as group commit would make them
            await log.append_many([h.make_event(i) for i in range(start, min(count, start + 4))])
        await log.aclose()
        return log

    return asyncio.run(scenario())


def as_dba(db, *statements):
    """Run statements with the append-only triggers bypassed, as the table owner could."""
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for statement in statements:
            if isinstance(statement, str):
                connection.execute(sa.text(statement))
            else:
                connection.execute(statement)


def verify(log):
    return asyncio.run(log.verify())


def test_intact_log_verifies(db, signing_key, clock, h):
    result = verify(build_log(db, signing_key, clock, h))
    assert result.ok and result.records == 12 and result.first_bad_seq is None


def test_modified_record(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h)
    as_dba(db, "UPDATE audit_records SET outcome = 'not_found' WHERE seq = 4")
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 4 and "modified" in result.reason
    assert result.records == 12


def test_deleted_record(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h)
    as_dba(db, "DELETE FROM audit_records WHERE seq = 5")
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 5 and "missing" in result.reason


def test_reordered_records(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h)
    as_dba(
        db,
        "UPDATE audit_records SET seq = -3 WHERE seq = 3",
        "UPDATE audit_records SET seq = 3 WHERE seq = 4",
        "UPDATE audit_records SET seq = 4 WHERE seq = -3",
    )
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 3


def test_inserted_record(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h)
    with db.engine.connect() as connection:
        copy = dict(
            connection.execute(sa.select(records_table).where(records_table.c.seq == 2)).mappings().one()
        )
    copy["seq"] = 6
    as_dba(
        db,
        "UPDATE audit_records SET seq = seq + 1000 WHERE seq >= 6",
        "UPDATE audit_records SET seq = seq - 999 WHERE seq >= 1006",
        sa.insert(records_table).values(**copy),
    )
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 6


def _rehash_from(db, start):
    """What a careful forger does after an edit: recompute every hash from ``start`` on."""
    with db.engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(sa.select(records_table).order_by("seq")).mappings()]
    statements = []
    previous = rows[start - 2]["hash"]
    for row in rows[start - 1 :]:
        new_hash = record_hash(previous, record_document(row))
        statements.append(
            sa.update(records_table)
            .where(records_table.c.seq == row["seq"])
            .values(prev_hash=previous, hash=new_hash)
        )
        previous = new_hash
    statements.append(sa.update(head_table).values(seq=rows[-1]["seq"], hash=previous))
    as_dba(db, *statements)


def test_rewritten_chain_is_caught_by_a_checkpoint(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h, count=12, checkpoint_every=4)
    as_dba(db, "UPDATE audit_records SET outcome = 'not_found' WHERE seq = 7")
    _rehash_from(db, 7)
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 5  # somewhere after checkpoint 4, up to 8
    assert "checkpoint" in result.reason


def test_truncation_after_a_checkpoint(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h, count=12, checkpoint_every=10)
    with db.engine.connect() as connection:
        seven = connection.execute(
            sa.select(records_table.c.hash).where(records_table.c.seq == 7)
        ).scalar_one()
    as_dba(
        db,
        "DELETE FROM audit_records WHERE seq > 7",
        sa.update(head_table).values(seq=7, hash=seven),
    )
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 8 and "truncated" in result.reason


def test_tail_truncation_is_caught_by_the_head_row(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h, count=12)
    as_dba(db, "DELETE FROM audit_records WHERE seq > 10")
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 11


def test_forged_checkpoint(db, signing_key, clock, h):
    log = build_log(db, signing_key, clock, h, count=12, checkpoint_every=4)
    as_dba(db, "UPDATE audit_checkpoints SET seq = 5 WHERE seq = 4")
    result = verify(log)
    assert not result.ok and result.first_bad_seq == 5 and "signature" in result.reason


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET outcome = 'ok'",
        "DELETE FROM audit_records WHERE seq = 1",
        "TRUNCATE audit_records",
        "UPDATE audit_checkpoints SET seq = 0",
        "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_checkpoints",
    ],
)
def test_postgres_triggers_forbid_changes(db, signing_key, clock, h, statement):
    if db.dialect != "postgresql":
        pytest.skip("append-only triggers are PostgreSQL's")
    log = build_log(db, signing_key, clock, h, count=3)
    asyncio.run(log.checkpoint())
    with pytest.raises(sqlalchemy.exc.DBAPIError) as info, db.engine.begin() as connection:
        connection.execute(sa.text(statement))
    assert "append-only" in str(info.value)
    assert verify(log).ok
