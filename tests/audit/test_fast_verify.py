"""The fast path of verification (raw driver rows, no dicts, no JSON encoder) against the exact one.

``row_payload`` must give the bytes of ``canonical_json(record_document(row))`` for every value a
record can hold, and ``ChainVerifier.add_rows`` must give the same result as ``add_record`` on the
same rows, intact or tampered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.chain import (
    _ENCODER,
    GENESIS_HASH,
    ROW_COLUMNS,
    ChainVerifier,
    canonical_json,
    format_time,
    record_document,
    record_hash,
    row_payload,
)
from audit.models import create_tables, drop_tables, records_table
from audit.store import (
    _VERIFY_COPY_SQL,
    AuditStore,
    _pg_time_text,
    _sqlite_time_text,
    _utc_time_text,
    copy_rows,
)

NULLABLE = {
    "request_id",
    "requester_department",
    "requester_operator_id",
    "purpose_theme",
    "purpose_case_id",
    "purpose_application_id",
    "purpose_legal_basis",
    "source_service",
    "subject_display",
    "subject_key",
    "latency_ms",
    "reason",
}
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # any text but lone surrogates
int64 = st.integers(-(2**63), 2**63 - 1)
times = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))


def _value(name: str) -> st.SearchStrategy:
    if name in ("purpose_matters", "fields"):
        return st.lists(text, max_size=5).map(_ENCODER.encode)  # stored as JSON text
    if name in ("seq", "latency_ms"):
        base: st.SearchStrategy = int64
    elif name == "restricted":
        return st.sampled_from([True, False, 0, 1])  # PostgreSQL gives bools, SQLite ints
    elif name == "time":
        return times
    else:
        base = text
    return st.one_of(st.none(), base) if name in NULLABLE else base


raw_rows = st.fixed_dictionaries({name: _value(name) for name in ROW_COLUMNS[:-2]})  # all but the hashes


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_rows)
def test_row_payload_is_canonical_json(values):
    document = dict(values)
    document["restricted"] = bool(values["restricted"])
    expected = canonical_json(record_document(document))
    row = tuple(values.get(name) for name in ROW_COLUMNS)
    assert row_payload(row, format_time(values["time"])) == expected


@given(times)
def test_time_shortcuts_match_format_time(value):
    stored = value.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores a datetime in SQLite
    if len(stored) == 26:  # strftime does not pad years below 1000 on every platform
        assert _sqlite_time_text(stored) == format_time(value)
    assert _utc_time_text(value.replace(tzinfo=UTC)) == format_time(value)
    assert _utc_time_text(value) == format_time(value)
    if value > datetime(1, 1, 2):
        shifted = value.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=8)))
        assert _utc_time_text(shifted) == format_time(value)


# --- add_rows against add_record ------------------------------------------------------------------


def _chain(count: int) -> list[list]:
    """Raw SQLite-style rows (time as SQLAlchemy's text, lists as JSON text, restricted as 0/1)."""
    rows = []
    previous = GENESIS_HASH
    start = datetime(2026, 3, 1, 9, 0, 0, 123456)
    for seq in range(1, count + 1):
        values = {name: None for name in ROW_COLUMNS}
        values.update(
            seq=seq,
            time=(start + timedelta(milliseconds=seq)).strftime("%Y-%m-%d %H:%M:%S.%f"),
            action="source_read",
            requester_client_id="frontend-1",
            requester_role="frontend",
            purpose_matters='["employment_registration"]',
            source_department="psb",
            source_name="psb_identity",
            subject_display="4***************34",
            fields='["name","gender"]',
            outcome="ok",
            latency_ms=seq % 7,
            restricted=seq % 2,
            reason='quote " backslash \\ 张 \n' if seq == 3 else None,
        )
        document = _exact(values)
        values["prev_hash"], values["hash"] = previous, record_hash(previous, record_document(document))
        previous = values["hash"]
        rows.append([values[name] for name in ROW_COLUMNS])
    return rows


def _exact(values: dict) -> dict:
    """What SQLAlchemy gives for a raw SQLite row."""
    document = dict(values)
    document["time"] = datetime.strptime(values["time"], "%Y-%m-%d %H:%M:%S.%f")
    document["restricted"] = bool(values["restricted"])
    return document


def _run(rows: list[list], checkpoints: dict[int, str], fast: bool):
    """The result, or the type of the exception, of verifying ``rows`` one way."""
    verifier = ChainVerifier([])
    verifier._checkpoints = dict(checkpoints)
    try:
        if fast:
            verifier.add_rows(
                [tuple(row) for row in rows],
                _sqlite_time_text,
                lambda row: _exact(dict(zip(ROW_COLUMNS, row, strict=True))),
            )
        else:
            for row in rows:
                verifier.add_record(_exact(dict(zip(ROW_COLUMNS, row, strict=True))))
    except (TypeError, ValueError) as exc:  # the exact path raises on some odd types; so must the fast
        return type(exc)
    return verifier.result()


def _both(rows: list[list], checkpoints: dict[int, str]) -> tuple:
    return _run(rows, checkpoints, True), _run(rows, checkpoints, False)


def test_intact_rows_agree():
    rows = _chain(20)
    fast, exact = _both(rows, {10: rows[9][-1]})
    assert fast == exact and fast.ok and fast.records == 20 and fast.anchored_seq == 10


def test_stored_list_in_another_form_is_decided_by_the_exact_path():
    rows = _chain(5)
    rows[2][ROW_COLUMNS.index("fields")] = '["name", "gender"]'  # same list, not canonical text
    fast, exact = _both(rows, {})
    assert fast == exact and fast.ok


tamper = st.tuples(
    st.integers(0, 11),
    st.sampled_from([name for name in ROW_COLUMNS if name != "time"]),
    st.one_of(st.none(), int64, text, st.floats(allow_nan=False), st.booleans(), st.binary(max_size=3)),
)


@settings(max_examples=300, deadline=None)
@given(tamper, st.sampled_from(["edit", "delete", "swap", "duplicate"]))
def test_tampered_rows_agree(change, how):
    rows = _chain(12)
    index, name, value = change
    if how == "edit":
        rows[index][ROW_COLUMNS.index(name)] = value
    elif how == "delete":
        del rows[index]
    elif how == "swap":
        rows[index], rows[(index + 1) % 12] = rows[(index + 1) % 12], rows[index]
    else:
        rows.insert(index, list(rows[(index + 5) % 12]))
    fast, exact = _both(rows, {8: rows[7][-1] if len(rows) > 7 else "0" * 64})
    assert fast == exact


# --- PostgreSQL: rows from COPY ... TO STDOUT (text format) ---------------------------------------

_COPY_ESCAPE_OUT = str.maketrans(
    {"\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
)


def _pg_text(name: str, value) -> str:
    """The server's COPY text for a typed value (timestamptz at UTC, DateStyle ISO), as documented."""
    if value is None:
        return "\\N"
    if name == "restricted":
        return "t" if value else "f"
    if name == "time":
        # years from 1000 (pg_times): four digits, as the server prints them; trailing zeros dropped
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".") + "+00"
    if isinstance(value, int):
        return str(value)
    return value.translate(_COPY_ESCAPE_OUT)


pg_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=16
)  # varchar(16) the shortest
pg_times = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


def _pg_value(name: str) -> st.SearchStrategy:
    if name in ("purpose_matters", "fields"):
        return st.lists(pg_text, max_size=5).map(_ENCODER.encode)
    if name == "seq":
        return int64
    if name == "latency_ms":
        base: st.SearchStrategy = st.integers(-(2**31), 2**31 - 1)
    elif name == "restricted":
        return st.booleans()
    elif name == "time":
        return st.one_of(pg_times, pg_times.map(lambda t: t.replace(microsecond=0)))
    else:
        base = pg_text
    return st.one_of(st.none(), base) if name in NULLABLE else base


pg_rows = st.fixed_dictionaries({name: _pg_value(name) for name in ROW_COLUMNS[:-2]})


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pg_rows)
def test_copy_row_payload_is_canonical_json(values):
    """A COPY line, parsed by copy_rows, hashes exactly like the typed row psycopg gives."""
    expected = canonical_json(record_document(values))
    line = "\t".join(_pg_text(name, values.get(name)) for name in ROW_COLUMNS[:-2]) + "\tp\th\n"
    (row,) = copy_rows([line.encode()], "utf-8")
    typed = [values.get(name) for name in ROW_COLUMNS[:-2]]
    assert [type(v) for i, v in enumerate(row) if i != ROW_COLUMNS.index("time")][:-2] == [
        type(v) for i, v in enumerate(typed) if i != ROW_COLUMNS.index("time")
    ]
    assert row_payload(row, _pg_time_text(row[ROW_COLUMNS.index("time")])) == expected


@given(pg_times)
def test_pg_time_text_matches_format_time(value):
    assert _pg_time_text(_pg_text("time", value)) == format_time(value)
    assert _pg_time_text(_pg_text("time", value.replace(microsecond=0))) == format_time(
        value.replace(microsecond=0)
    )


def test_pg_time_text_rejects_other_shapes():
    for text in (
        "10000-01-01 00:00:00+00",
        "0044-03-15 12:00:00+00 BC",
        "2026-03-01 09:00:00+08",
        "2026-03-01T09:00:00Z",
    ):
        with pytest.raises(ValueError):
            _pg_time_text(text)


@pytest.mark.postgres
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pg_rows, min_size=1, max_size=8, unique_by=lambda row: row["seq"]))
def test_copy_payloads_from_postgresql(pg_url, rows):
    """Against the server: COPY text through copy_rows gives the bytes of the typed row SQLAlchemy reads,
    verify() passes a chain of such rows, and a modified one is named."""
    if pg_url is None:
        pytest.skip("PREFILL_TEST_DATABASE_URL not set")
    engine = sa.create_engine(pg_url)
    try:
        drop_tables(engine)
        create_tables(engine)
        previous, stored = GENESIS_HASH, []
        for seq, values in enumerate(sorted(rows, key=lambda row: row["seq"]), start=1):
            document = dict(values, seq=seq)
            document["prev_hash"], document["hash"] = (
                previous,
                record_hash(previous, record_document(document)),
            )
            previous = document["hash"]
            stored.append(document)
        with engine.begin() as connection:
            connection.execute(sa.insert(records_table), stored)
        with engine.connect() as connection:
            typed = [
                dict(row)
                for row in connection.execute(
                    sa.select(records_table).order_by(records_table.c.seq)
                ).mappings()
            ]
            connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            connection.exec_driver_sql("SET LOCAL DateStyle TO 'ISO'")
            driver = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(_VERIFY_COPY_SQL) as copy:
                copied = list(copy_rows(copy, driver.info.encoding))
        time_i = ROW_COLUMNS.index("time")
        assert [row_payload(row, _pg_time_text(row[time_i])) for row in copied] == [
            canonical_json(record_document(row)) for row in typed
        ]
        store = AuditStore(engine)
        result = store.verify()
        assert result.ok and result.records == len(stored), result
        if len(stored) > 1:
            with engine.begin() as connection:
                connection.exec_driver_sql("ALTER TABLE audit_records DISABLE TRIGGER USER")
                connection.execute(
                    sa.update(records_table).where(records_table.c.seq == 2).values(outcome="forged\n\\N")
                )
                connection.exec_driver_sql("ALTER TABLE audit_records ENABLE TRIGGER USER")
            result = store.verify()
            assert not result.ok and result.first_bad_seq == 2, result
    finally:
        drop_tables(engine)
        engine.dispose()
