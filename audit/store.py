"""Synchronous database side of the audit log: the sequencer, appends, checkpoints, reads.

One sequencer serialises every append: the single row of ``audit_head`` is locked with
``SELECT … FOR UPDATE`` on PostgreSQL (across processes and hosts); on SQLite a process
lock plus ``BEGIN IMMEDIATE`` (the database's single write lock) do the same. Inside the
lock the batch is numbered, hashed onto the head, inserted and the head moved, all in one
transaction: a batch is durable as a whole or not at all.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from audit.chain import (
    _ENCODER,
    GENESIS_HASH,
    LIST_COLUMNS,
    RECORD_COLUMNS,
    ROW_COLUMNS,
    ChainVerifier,
    format_time,
    key_id,
    parse_time,
    public_key_bytes,
    record_hash,
    sign_checkpoint,
)
from audit.errors import InvalidCursorError, SigningKeyMissingError
from audit.models import checkpoints_table, head_table, records_table
from audit.schemas import (
    AccessLogEntry,
    Action,
    AuditEvent,
    AuditFilters,
    AuditRecord,
    AuditRecordView,
    Checkpoint,
    Outcome,
    Page,
    Purpose,
    Requester,
    SourceRef,
    VerifyResult,
)

HEAD_ID = 1
BUNDLE_FORMAT = "prefill-audit-bundle/1"
READ_CHUNK = 5000
MAX_PAGE = 500

_RECORD_SELECT_COLUMNS = [records_table.c[name] for name in (*RECORD_COLUMNS, "prev_hash", "hash")]
_RECORD_NAMES = [column.name for column in _RECORD_SELECT_COLUMNS]
_VERIFY_SQL = f"SELECT {', '.join(ROW_COLUMNS)} FROM audit_records ORDER BY seq"  # noqa: S608 (constant names)
_VERIFY_COPY_SQL = f"COPY ({_VERIFY_SQL}) TO STDOUT"
VERIFY_BATCH = 10000


def event_document(event: AuditEvent, seq: int, time: str) -> dict[str, Any]:
    """The hashed document of a new record (lists as lists, time as text)."""
    requester, purpose, source, subject = event.requester, event.purpose, event.source, event.subject
    return {
        "seq": seq,
        "time": time,
        "action": event.action.value,
        "request_id": event.request_id,
        "requester_client_id": requester.client_id,
        "requester_role": requester.role,
        "requester_department": requester.department,
        "requester_operator_id": requester.operator_id,
        "purpose_theme": purpose.theme,
        "purpose_matters": list(purpose.matters),
        "purpose_case_id": purpose.case_id,
        "purpose_application_id": purpose.application_id,
        "purpose_legal_basis": purpose.legal_basis,
        "source_department": source.department,
        "source_name": source.source,
        "source_service": source.service,
        "subject_display": subject.display if subject else None,
        "subject_key": subject.key if subject else None,
        "fields": list(event.fields),
        "outcome": event.outcome.value,
        "latency_ms": event.latency_ms,
        "restricted": event.restricted,
        "reason": event.reason,
    }


def record_from_row(row: Mapping[str, Any]) -> AuditRecord:
    """An :class:`AuditRecord` from a database row or hashed document (+ hashes)."""

    def as_list(value: Any) -> tuple[str, ...]:
        return tuple(json.loads(value) if isinstance(value, str) else value)

    time = row["time"]
    time = parse_time(time) if isinstance(time, str) else parse_time(format_time(time))
    return AuditRecord(
        seq=row["seq"],
        time=time,
        action=Action(row["action"]),
        request_id=row["request_id"],
        requester=Requester(
            client_id=row["requester_client_id"],
            role=row["requester_role"],
            department=row["requester_department"],
            operator_id=row["requester_operator_id"],
        ),
        purpose=Purpose(
            theme=row["purpose_theme"],
            matters=as_list(row["purpose_matters"]),
            case_id=row["purpose_case_id"],
            application_id=row["purpose_application_id"],
            legal_basis=row["purpose_legal_basis"],
        ),
        source=SourceRef(
            department=row["source_department"], source=row["source_name"], service=row["source_service"]
        ),
        subject_display=row["subject_display"],
        subject_key=row["subject_key"],
        fields=as_list(row["fields"]),
        outcome=Outcome(row["outcome"]),
        latency_ms=row["latency_ms"],
        restricted=bool(row["restricted"]),
        reason=row["reason"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _sqlite_time_text(value: Any) -> str:
    """SQLAlchemy's SQLite text for a time (``2026-03-01 09:00:00.123456``) in ``format_time`` form.

    Only that exact shape; anything else raises and goes the exact way (SQLAlchemy's parser).
    """
    if len(value) != 26 or value[10] != " ":
        raise ValueError("not SQLAlchemy's SQLite datetime text")
    return value[:10] + "T" + value[11:] + "Z"


def _utc_time_text(value: datetime) -> str:
    """``format_time`` for a driver's aware datetime, a shortcut when it is already at +00:00."""
    text = value.isoformat(timespec="microseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else format_time(value)


_PG_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))?\+00")


def _pg_time_text(value: str) -> str:
    """PostgreSQL's text for a ``timestamptz`` (DateStyle ISO, TimeZone UTC) in ``format_time`` form.

    The server drops trailing zeros of the fraction (``09:00:00.5+00``, ``09:00:00+00``); any
    other shape (a year outside 1-9999, BC, another zone) raises and goes the exact way.
    """
    if len(value) == 29 and value[10] == " " and value[19] == "." and value[26:] == "+00":
        return value[:10] + "T" + value[11:26] + "Z"
    match = _PG_TIME.fullmatch(value)
    if match is None:
        raise ValueError("not PostgreSQL's ISO timestamptz text at UTC")
    return f"{match[1]}T{match[2]}.{(match[3] or '').ljust(6, '0')}Z"


# COPY's text format: tab-separated, ``\N`` for NULL, and these escapes (COPY TO emits no others).
_COPY_ESCAPES = {"\\\\": "\\", "\\b": "\b", "\\f": "\f", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\v": "\v"}
_COPY_ESCAPE = re.compile(r"\\.", re.DOTALL)
_COPY_SEQ, _COPY_LATENCY = ROW_COLUMNS.index("seq"), ROW_COLUMNS.index("latency_ms")
_COPY_RESTRICTED, _COPY_TIME = ROW_COLUMNS.index("restricted"), ROW_COLUMNS.index("time")
_COPY_BOOL = {"t": True, "f": False}


def _copy_unescape(field: str) -> str | None:
    if field == "\\N":
        return None
    return _COPY_ESCAPE.sub(lambda match: _COPY_ESCAPES[match[0]], field)


def copy_rows(lines: Iterable[Any], encoding: str) -> Iterator[list[Any]]:
    """Raw rows (see ``ROW_COLUMNS``) from the text-format COPY lines of ``_VERIFY_COPY_SQL``.

    Typed as psycopg would give them (seq and latency_ms ints, restricted a bool, NULL None)
    except time, left as the server's text for ``_pg_time_text``. Unescaping is skipped for a
    line whose only backslashes are NULL markers: any other escape leaves a backslash behind
    after removing every ``\\N`` (an escape's backslash is followed by its letter, never by N).
    """
    seq_i, latency_i, restricted_i, to_bool = _COPY_SEQ, _COPY_LATENCY, _COPY_RESTRICTED, _COPY_BOOL
    for data in lines:
        line = str(data, encoding)
        if line[-1:] != "\n":
            raise ValueError("COPY line without its newline")
        fields = line[:-1].split("\t")
        if "\\" not in line.replace("\\N", ""):
            row: list[Any] = [None if field == "\\N" else field for field in fields]
        else:
            row = [_copy_unescape(field) for field in fields]
        if len(row) != len(ROW_COLUMNS):
            raise ValueError(f"COPY line with {len(row)} fields, not {len(ROW_COLUMNS)}")
        row[seq_i] = int(row[seq_i])
        latency = row[latency_i]
        if latency is not None:
            row[latency_i] = int(latency)
        row[restricted_i] = to_bool[row[restricted_i]]
        yield row


def bundle_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A record as an export-bundle line object (time as text, lists as lists)."""
    line: dict[str, Any] = {"type": "record"}
    for name in _RECORD_NAMES:
        value = row[name]
        if name == "time":
            value = format_time(value)
        elif name in LIST_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        elif name == "restricted":
            value = bool(value)
        line[name] = value
    return line


def _checkpoint_from_row(row: Mapping[str, Any]) -> Checkpoint:
    return Checkpoint(
        id=row["id"],
        seq=row["seq"],
        head_hash=row["head_hash"],
        time=parse_time(format_time(row["time"])),
        key_id=row["key_id"],
        signature=row["signature"],
    )


def checkpoint_document(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "id": checkpoint.id,
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "time": format_time(checkpoint.time),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        version, _, seq = text.partition(":")
        if version != "v1":
            raise ValueError(version)
        value = int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursorError("invalid cursor") from exc
    if value < 1:
        raise InvalidCursorError("invalid cursor")
    return value


class AuditStore:
    """The audit tables behind one SQLAlchemy engine. Thread-safe; blocking."""

    def __init__(
        self,
        engine: Engine,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        public_keys: Sequence[Ed25519PublicKey] = (),
        checkpoint_every: int | None = None,
    ) -> None:
        self.engine = engine
        self._signing_key = signing_key
        keys = list(public_keys)
        if signing_key is not None:
            keys.append(signing_key.public_key())
        self.public_keys = keys
        self._checkpoint_every = checkpoint_every
        self._sqlite = engine.dialect.name == "sqlite"
        self._lock = threading.Lock()

    # --- the sequencer ----------------------------------------------------------------------------

    @contextmanager
    def _sequenced(self) -> Iterator[tuple[Connection, int, str]]:
        """A write transaction holding the sequencer, with the head (seq, hash) it locked."""
        with self._lock, self.engine.connect() as connection:
            if self._sqlite:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            head = self._lock_head(connection)
            yield connection, head[0], head[1]
            connection.commit()

    def _lock_head(self, connection: Connection) -> tuple[int, str]:
        query = sa.select(head_table.c.seq, head_table.c.hash).where(head_table.c.id == HEAD_ID)
        if not self._sqlite:
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None:
            self._create_head(connection)
            row = connection.execute(query).one()
        return int(row[0]), str(row[1])

    def _create_head(self, connection: Connection) -> None:
        # Start from the last record rather than genesis, so that a lost head row cannot fork the chain.
        last = connection.execute(
            sa.select(records_table.c.seq, records_table.c.hash).order_by(records_table.c.seq.desc()).limit(1)
        ).first()
        values = {"id": HEAD_ID, "seq": last[0] if last else 0, "hash": last[1] if last else GENESIS_HASH}
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(dialect.insert(head_table).values(**values).on_conflict_do_nothing())

    # --- writes -----------------------------------------------------------------------------------

    def append_batch(self, events: Sequence[AuditEvent], times: Sequence[datetime]) -> list[AuditRecord]:
        """Number, chain and insert ``events`` in one transaction; returns them as stored."""
        if not events:
            return []
        documents: list[dict[str, Any]] = []
        with self._sequenced() as (connection, seq, head_hash):
            rows = []
            for event, when in zip(events, times, strict=True):
                seq += 1
                time_text = format_time(when)
                document = event_document(event, seq, time_text)
                prev_hash, head_hash = head_hash, record_hash(head_hash, document)
                row = dict(document)
                row["time"] = parse_time(time_text)
                for name in LIST_COLUMNS:
                    row[name] = _ENCODER.encode(row[name])
                document["prev_hash"] = row["prev_hash"] = prev_hash
                document["hash"] = row["hash"] = head_hash
                documents.append(document)
                rows.append(row)
            connection.execute(sa.insert(records_table), rows)
            connection.execute(
                sa.update(head_table).where(head_table.c.id == HEAD_ID).values(seq=seq, hash=head_hash)
            )
            every = self._checkpoint_every
            if every and self._signing_key is not None and (seq // every) > ((seq - len(rows)) // every):
                self._write_checkpoint(connection, seq, head_hash, times[-1])
        return [record_from_row(document) for document in documents]

    def _write_checkpoint(
        self, connection: Connection, seq: int, head_hash: str, now: datetime
    ) -> Checkpoint:
        if self._signing_key is None:
            raise SigningKeyMissingError("this audit log has no signing key")
        time_text = format_time(now)
        values: dict[str, Any] = {
            "seq": seq,
            "head_hash": head_hash,
            "time": parse_time(time_text),
            "key_id": key_id(self._signing_key),
            "signature": sign_checkpoint(self._signing_key, seq, head_hash, time_text),
        }
        result = connection.execute(sa.insert(checkpoints_table).values(**values))
        primary_key = result.inserted_primary_key
        assert primary_key is not None
        return Checkpoint(id=int(primary_key[0]), **values)

    def checkpoint(self, now: datetime) -> Checkpoint:
        """Sign the current head (under the sequencer, so it is a head that exists)."""
        if self._signing_key is None:
            raise SigningKeyMissingError("this audit log has no signing key")
        with self._sequenced() as (connection, seq, head_hash):
            return self._write_checkpoint(connection, seq, head_hash, now)

    # --- reads ------------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(head_table.c.seq, head_table.c.hash).where(head_table.c.id == HEAD_ID)
            ).first()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)

    def checkpoints(self, upto_seq: int | None = None) -> list[Checkpoint]:
        query = sa.select(checkpoints_table).order_by(checkpoints_table.c.id)
        if upto_seq is not None:
            query = query.where(checkpoints_table.c.seq <= upto_seq)
        with self.engine.connect() as connection:
            return [_checkpoint_from_row(dict(row)) for row in connection.execute(query).mappings()]

    def record_rows(self, after_seq: int, upto_seq: int | None, limit: int) -> list[dict[str, Any]]:
        """Raw rows in ``seq`` order, keyset-paginated (each call its own connection)."""
        query = (
            sa.select(*_RECORD_SELECT_COLUMNS)
            .where(records_table.c.seq > after_seq)
            .order_by(records_table.c.seq)
            .limit(limit)
        )
        if upto_seq is not None:
            query = query.where(records_table.c.seq <= upto_seq)
        with self.engine.connect() as connection:
            return [dict(zip(_RECORD_NAMES, row, strict=True)) for row in connection.execute(query)]

    def _row_decoders(self) -> tuple[Callable[[Any], str], Callable[[Sequence[Any]], dict[str, Any]]]:
        """For ``ChainVerifier.add_rows``: raw time -> hashed text, and raw row -> what SQLAlchemy gives."""
        dialect = self.engine.dialect
        processors = [
            records_table.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
            for name in ROW_COLUMNS
        ]

        def to_record(row: Sequence[Any]) -> dict[str, Any]:
            return {
                name: (value if process is None else process(value))
                for name, value, process in zip(ROW_COLUMNS, row, processors, strict=True)
            }

        return (_sqlite_time_text if self._sqlite else _utc_time_text), to_record

    @staticmethod
    def _verify_copy(
        connection: Connection, verifier: ChainVerifier, to_record: Callable[[Sequence[Any]], dict[str, Any]]
    ) -> None:
        """Feed ``verifier`` from ``COPY (<the verify query>) TO STDOUT`` on psycopg 3."""
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        # psycopg's own loader for the time of a record that goes the exact way, so add_record
        # sees the datetime (or the error) a plain query would have given.
        oid = driver.adapters.types["timestamptz"].oid
        time_loader = driver.adapters.get_loader(oid, psycopg.pq.Format.TEXT)
        if time_loader is None:
            raise RuntimeError("psycopg has no text loader for timestamptz")
        load_time = time_loader(oid, driver).load
        encoding = driver.info.encoding
        time_i = _COPY_TIME

        def to_typed(row: Sequence[Any]) -> dict[str, Any]:
            typed = list(row)
            typed[time_i] = load_time(row[time_i].encode(encoding))
            return to_record(typed)

        with driver.cursor() as cursor, cursor.copy(_VERIFY_COPY_SQL) as copy:
            verifier.add_rows(copy_rows(copy, encoding), _pg_time_text, to_typed)

    def verify(self) -> VerifyResult:
        """Check every checkpoint, every record and the head row. Reads only; safe while appending.

        Checkpoints and the head are read before the records: the log only grows, so
        every record they name is present unless it was removed.
        """
        verifier = ChainVerifier(self.public_keys)
        for checkpoint in self.checkpoints():
            verifier.add_checkpoint(checkpoint_document(checkpoint))
        head_seq, head_hash = self.head()
        time_text, to_record = self._row_decoders()
        # One ordered scan with driver rows: building SQLAlchemy rows and dicts cost as much as
        # hashing (see bench/audit_bench.py). On PostgreSQL a COPY streams the rows: the server
        # keeps producing them while this process hashes, and no per-column decoding is done.
        try:
            self._scan_records(verifier, time_text, to_record)
        except (ValueError, OverflowError, TypeError, sa.exc.DataError, psycopg.DataError) as exc:
            # A DBA can write what the driver cannot decode; that is a broken log, not a crash.
            verifier.unreadable(exc)
            return verifier.result()
        verifier.check_head(head_seq, head_hash)
        return verifier.result()

    def _scan_records(
        self,
        verifier: ChainVerifier,
        time_text: Callable[[Any], str],
        to_record: Callable[[Sequence[Any]], dict[str, Any]],
    ) -> None:
        with self.engine.connect() as connection:
            if not self._sqlite:
                # Times come back at +00, as ISO text in a COPY (see _pg_time_text).
                connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                connection.exec_driver_sql("SET LOCAL DateStyle TO 'ISO'")
            if connection.dialect.driver == "psycopg":
                self._verify_copy(connection, verifier, to_record)
            else:  # SQLite (or another PostgreSQL driver): a streamed query, server-side cursor on PostgreSQL
                result = connection.execution_options(
                    stream_results=True, yield_per=VERIFY_BATCH
                ).exec_driver_sql(_VERIFY_SQL)
                for rows in result.partitions():
                    verifier.add_rows(rows, time_text, to_record)

    def _conditions(self, filters: AuditFilters) -> list[sa.ColumnElement[bool]]:
        c = records_table.c
        conditions: list[sa.ColumnElement[bool]] = []
        if filters.subject is not None:
            conditions.append(c.subject_key == filters.subject.key)
        if filters.requester is not None:
            conditions.append(c.requester_client_id == filters.requester)
        if filters.department is not None:
            conditions.append(
                sa.or_(
                    c.requester_department == filters.department, c.source_department == filters.department
                )
            )
        if filters.requester_department is not None:
            conditions.append(c.requester_department == filters.requester_department)
        if filters.source_department is not None:
            conditions.append(c.source_department == filters.source_department)
        if filters.source is not None:
            conditions.append(c.source_name == filters.source)
        if filters.matter is not None:
            conditions.append(c.purpose_matters.contains(_ENCODER.encode(filters.matter), autoescape=True))
        if filters.outcome is not None:
            conditions.append(c.outcome == filters.outcome.value)
        if filters.action is not None:
            conditions.append(c.action == filters.action.value)
        if filters.request_id is not None:
            conditions.append(c.request_id == filters.request_id)
        if filters.since is not None:
            conditions.append(c.time >= filters.since)
        if filters.until is not None:
            conditions.append(c.time < filters.until)
        return conditions

    def _page_rows(
        self, conditions: list[sa.ColumnElement[bool]], cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        limit = max(1, min(limit, MAX_PAGE))
        if cursor is not None:
            conditions = [*conditions, records_table.c.seq < decode_cursor(cursor)]
        query = (
            sa.select(*_RECORD_SELECT_COLUMNS)
            .where(*conditions)
            .order_by(records_table.c.seq.desc())
            .limit(limit + 1)
        )
        with self.engine.connect() as connection:
            rows = [dict(zip(_RECORD_NAMES, row, strict=True)) for row in connection.execute(query)]
        next_cursor = encode_cursor(rows[limit - 1]["seq"]) if len(rows) > limit else None
        return rows[:limit], next_cursor

    def query(self, filters: AuditFilters, cursor: str | None, limit: int) -> Page[AuditRecordView]:
        """Newest first; ``next_cursor`` continues with older records."""
        rows, next_cursor = self._page_rows(self._conditions(filters), cursor, limit)
        return Page[AuditRecordView](
            items=[record_from_row(row).view() for row in rows], next_cursor=next_cursor
        )

    def access_log(self, subject_key: str, cursor: str | None, limit: int) -> Page[AccessLogEntry]:
        c = records_table.c
        conditions = [
            c.subject_key == subject_key,
            c.restricted.is_(False),
            c.action != Action.ACCESS_LOG_VIEW.value,
        ]
        rows, next_cursor = self._page_rows(conditions, cursor, limit)
        items = []
        for row in rows:
            record = record_from_row(row)
            items.append(
                AccessLogEntry(
                    time=record.time,
                    receiver=record.requester.department,
                    receiver_client=record.requester.client_id,
                    purpose=record.purpose,
                    source=record.source.source,
                    source_department=record.source.department,
                    fields=list(record.fields),
                    outcome=record.outcome,
                )
            )
        return Page[AccessLogEntry](items=items, next_cursor=next_cursor)

    def bundle_header(self, upto_seq: int, checkpoint_count: int, now: datetime) -> dict[str, Any]:
        return {
            "type": "header",
            "format": BUNDLE_FORMAT,
            "exported_at": format_time(now),
            "records": upto_seq,
            "checkpoints": checkpoint_count,
            "public_keys": [
                {"key_id": key_id(key), "public_key": base64.b64encode(public_key_bytes(key)).decode("ascii")}
                for key in self.public_keys
            ],
        }


def now_utc() -> datetime:
    return datetime.now(UTC)
