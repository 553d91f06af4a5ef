import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from audit import (
    Action,
    AuditClosedError,
    AuditEvent,
    AuditFilters,
    AuditLog,
    AuditWriteError,
    InvalidCursorError,
    Outcome,
    Requester,
    SigningKeyMissingError,
    SourceRef,
    Subject,
)
from audit.chain import GENESIS_HASH
from audit.models import records_table

ID_A = "420106199001011234"
ID_B = "42010619851231567X"


def run(coro):
    return asyncio.run(coro)


def test_appends_form_one_gapless_chain(db, signing_key, clock, h):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)
        records = await asyncio.gather(*(log.append(h.make_event(i)) for i in range(60)))
        more = await log.append_many([h.make_event(100), h.make_event(101)])
        await log.aclose()
        return records, more

    records, more = run(scenario())
    seqs = sorted(record.seq for record in [*records, *more])
    assert seqs == list(range(1, 63))
    by_seq = {record.seq: record for record in [*records, *more]}
    assert by_seq[1].prev_hash == GENESIS_HASH
    assert all(by_seq[n].prev_hash == by_seq[n - 1].hash for n in range(2, 63))
    assert more[1].seq == more[0].seq + 1  # append_many keeps order and adjacency


def test_concurrent_appends_are_group_committed(db, signing_key, clock, h):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)
        calls = []
        original = log.store.append_batch

        def spy(events, times):
            calls.append(len(events))
            return original(events, times)

        log.store.append_batch = spy  # type: ignore[method-assign]
        await asyncio.gather(*(log.append(h.make_event(i)) for i in range(200)))
        await log.aclose()
        return calls

    calls = run(scenario())
    assert sum(calls) == 200
    assert len(calls) < 200 / 4  # batched, not one transaction per record


def test_record_keeps_event_and_clock_time(db, signing_key, clock, h):
    happened = datetime(2026, 2, 1, 8, 30, tzinfo=UTC)

    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)
        first = await log.append(h.make_event(1, time=happened))
        second = await log.append(h.make_event(2))
        await log.aclose()
        return first, second

    first, second = run(scenario())
    assert first.time == happened
    assert second.time.tzinfo is not None and second.time > datetime(2026, 3, 1, tzinfo=UTC)
    assert first.subject_display == "4***************34"
    assert first.fields == ("name", "gender", "birth_date")


def test_no_plain_identifier_is_stored(db, signing_key, clock, h):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)
        await log.append(h.make_event(1, id_number=ID_A))
        await log.aclose()

    run(scenario())
    with db.engine.connect() as connection:
        rows = connection.execute(sa.select(records_table)).all()
    dumped = repr(rows)
    assert ID_A not in dumped and ID_A[:6] + ID_A[6:14] not in dumped


def test_fail_closed_when_the_store_is_unavailable(db, signing_key, clock, h):
    disclosed = []

    async def prefill_like_caller(log):
        # The documented pattern: record first, disclose only after the record is durable.
        await log.append(h.make_event(1))
        disclosed.append("value")

    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE audit_records"))
        with pytest.raises(AuditWriteError) as info:
            await prefill_like_caller(log)
        assert ID_A not in str(info.value)
        # The writer survives a failed batch.
        with pytest.raises(AuditWriteError):
            await log.append(h.make_event(2))
        await log.aclose()
        with pytest.raises(AuditClosedError):
            await log.append(h.make_event(3))

    run(scenario())
    assert disclosed == []


def test_failed_batch_fails_every_appender_in_it(db, signing_key, clock, h):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)

        def broken(events, times):
            raise RuntimeError("disk full")

        log.store.append_batch = broken  # type: ignore[method-assign]
        results = await asyncio.gather(
            *(log.append(h.make_event(i)) for i in range(10)), return_exceptions=True
        )
        await log.aclose()
        return results

    results = run(scenario())
    assert all(isinstance(result, AuditWriteError) for result in results)


def test_events_refuse_unmasked_subjects_and_values_as_field_codes(h):
    with pytest.raises(ValidationError):
        Subject(display=ID_A, key="0" * 64)
    with pytest.raises(ValidationError):
        Subject(display="4***", key=ID_A)
    with pytest.raises(ValidationError):
        AuditEvent(
            requester=h.FRONTEND,
            source=SourceRef(department="psb", source="psb_identity"),
            fields=("张三",),
            outcome=Outcome.OK,
        )
    with pytest.raises(ValidationError):
        h.make_event(1, time=datetime(2026, 1, 1))  # naive time


def test_checkpoints(db, signing_key, clock, h):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock, checkpoint_every=10)
        for start in range(0, 25, 5):
            await log.append_many([h.make_event(i) for i in range(start, start + 5)])
        manual = await log.checkpoint()
        result = await log.verify()
        unsigned = AuditLog(db.engine, public_keys=[signing_key.public_key()], clock=clock)
        with pytest.raises(SigningKeyMissingError):
            await unsigned.checkpoint()
        assert (await unsigned.verify()).ok
        await log.aclose()
        return manual, result, log.store.checkpoints()

    manual, result, checkpoints = run(scenario())
    assert [checkpoint.seq for checkpoint in checkpoints] == [10, 20, 25]
    assert manual.seq == 25
    assert result.ok and result.records == 25 and result.checkpoints == 3 and result.anchored_seq == 25
    assert result.summary() == {
        "ok": True,
        "records": 25,
        "checkpoints": 3,
        "first_bad_seq": None,
        "reason": None,
        "anchored_seq": 25,
    }


def test_verify_without_trusted_key_fails_on_checkpoints(db, signing_key, clock, h):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)
        await log.append(h.make_event(1))
        await log.checkpoint()
        await log.aclose()
        return await AuditLog(db.engine, clock=clock).verify()

    result = run(scenario())
    assert not result.ok and result.first_bad_seq == 1


def _populate(db, signing_key, clock, h):
    other_auditor = Requester(
        client_id="window-7", role="window", department="employment_center", operator_id="op-3"
    )

    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)
        events = []
        for i in range(30):
            events.append(
                h.make_event(
                    i,
                    id_number=ID_A if i % 2 == 0 else ID_B,
                    source="psb_identity" if i % 3 == 0 else "hrss_pension",
                    department="psb" if i % 3 == 0 else "social_insurance_center",
                    outcome=Outcome.NOT_FOUND if i % 5 == 0 else Outcome.OK,
                    requester=other_auditor if i % 4 == 0 else h.FRONTEND,
                    matters=("archive_transfer_out",) if i % 7 == 0 else ("employment_registration",),
                    restricted=i == 2,
                    time=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=i),
                )
            )
        await log.append_many(events)
        return log

    return scenario


def test_query_filters(db, signing_key, clock, h):
    async def scenario():
        log = await _populate(db, signing_key, clock, h)()

        async def seqs(**filters):
            page = await log.query(AuditFilters(**filters), actor=h.AUDITOR, limit=500)
            return [item.seq for item in page.items]

        results = {
            "subject": await seqs(subject=h.subject_of(ID_A), action=Action.SOURCE_READ),
            "requester": await seqs(requester="window-7"),
            "department": await seqs(requester_department="employment_center"),
            "either_department": await seqs(department="psb", action=Action.SOURCE_READ),
            "source": await seqs(source="psb_identity"),
            "matter": await seqs(matter="archive_transfer_out"),
            "outcome": await seqs(outcome=Outcome.NOT_FOUND),
            "range": await seqs(
                since=datetime(2026, 3, 1, 0, 10, tzinfo=UTC),
                until=datetime(2026, 3, 1, 8, 15, tzinfo=timezone(timedelta(hours=8))),  # 00:15 UTC
            ),
            "combined": await seqs(source="hrss_pension", outcome=Outcome.OK, subject=h.subject_of(ID_B)),
        }
        page = await log.query(AuditFilters(source="psb_identity"), actor=h.AUDITOR, limit=2)
        await log.aclose()
        return results, page

    results, page = run(scenario())
    assert results["subject"] == [seq for seq in range(30, 0, -1) if (seq - 1) % 2 == 0]
    assert results["requester"] == [seq for seq in range(30, 0, -1) if (seq - 1) % 4 == 0]
    assert results["department"] == results["requester"]
    assert results["either_department"] == [seq for seq in range(30, 0, -1) if (seq - 1) % 3 == 0]
    assert results["source"] == results["either_department"]
    assert results["matter"] == [seq for seq in range(30, 0, -1) if (seq - 1) % 7 == 0]
    assert results["outcome"] == [seq for seq in range(30, 0, -1) if (seq - 1) % 5 == 0]
    assert results["range"] == list(range(15, 10, -1))
    assert results["combined"] == [
        seq for seq in range(30, 0, -1) if (seq - 1) % 2 == 1 and (seq - 1) % 3 != 0 and (seq - 1) % 5 != 0
    ]
    item = page.items[0]
    assert item.subject in ("4***************34", "4***************7X")
    assert item.requester in ("frontend-1", "window-7") and item.source == "psb_identity"
    assert page.next_cursor is not None


def test_cursor_pagination_walks_every_record_once(db, signing_key, clock, h):
    async def scenario():
        log = await _populate(db, signing_key, clock, h)()
        seen, cursor = [], None
        while True:
            page = await log.query(
                AuditFilters(action=Action.SOURCE_READ), actor=h.AUDITOR, cursor=cursor, limit=7
            )
            seen.extend(item.seq for item in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        with pytest.raises(InvalidCursorError):
            await log.query(AuditFilters(), actor=h.AUDITOR, cursor="garbage!")
        await log.aclose()
        return seen

    assert run(scenario()) == list(range(30, 0, -1))


def test_auditor_queries_are_audited(db, signing_key, clock, h):
    async def scenario():
        log = await _populate(db, signing_key, clock, h)()
        await log.query(AuditFilters(subject=h.subject_of(ID_A)), actor=h.AUDITOR, request_id="aud-1")
        page = await log.query(AuditFilters(action=Action.AUDIT_QUERY), actor=h.AUDITOR)
        await log.aclose()
        return page

    page = run(scenario())
    first_query = page.items[-1]
    assert first_query.requester == "auditor-1" and first_query.request_id == "aud-1"
    assert first_query.subject == "4***************34"
    assert len(page.items) == 2  # the second query recorded itself before it ran


def test_auditor_query_fails_closed(db, signing_key, clock, h):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock)

        def broken(events, times):
            raise RuntimeError("down")

        log.store.append_batch = broken  # type: ignore[method-assign]
        with pytest.raises(AuditWriteError):
            await log.query(AuditFilters(), actor=h.AUDITOR)
        await log.aclose()

    run(scenario())


def test_citizen_access_log_hides_restricted_records(db, signing_key, clock, h):
    async def scenario():
        log = await _populate(db, signing_key, clock, h)()
        page = await log.access_log_for(h.subject_of(ID_A), actor=h.FRONTEND, limit=100)
        again = await log.access_log_for(h.subject_of(ID_A), limit=100)
        await log.aclose()
        return page, again

    page, again = run(scenario())
    # Records 1, 3, 5, ... (i even) are about ID_A; i == 2 (seq 3) is restricted.
    assert len(page.items) == 14
    assert len(again.items) == 14  # viewing one's own log does not show up in it
    entry = page.items[0].model_dump()
    assert set(entry) >= {"time", "receiver", "purpose", "source"}
    assert entry["source"] in ("psb_identity", "hrss_pension")
    assert ID_A not in repr(page.model_dump())
