"""The audit log service: async appends with group commit, checkpoints, verification, queries.

Fail closed. ``await log.append(event)`` returns only once the record is committed; if it
raises (:class:`audit.errors.AuditWriteError`), the caller must not disclose the data the
event describes. Record *before* returning data, never after.

Group commit. Appenders put their events on a queue; one writer task drains whatever has
accumulated (up to ``max_batch``) and commits it in one transaction in a worker thread.
While a transaction is in flight the next batch gathers, so batch size adapts to load
with no added latency when idle.

Lifecycle: build one ``AuditLog`` in the app's lifespan, ``await log.aclose()`` at
shutdown. The writer starts lazily on the first append, in the running loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Engine

from audit.bundle import verify_bundle
from audit.chain import canonical_json
from audit.errors import AuditClosedError, AuditWriteError
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
    Requester,
    SourceRef,
    Subject,
    VerifyResult,
)
from audit.store import READ_CHUNK, AuditStore, bundle_record, checkpoint_document

__all__ = ["AuditLog", "verify_bundle"]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Pending:
    events: list[AuditEvent]
    times: list[datetime]
    future: asyncio.Future[list[AuditRecord]] = field(repr=False)


_STOP = object()


class AuditLog:
    """Tamper-evident audit log over one SQLAlchemy engine.

    ``signing_key`` signs checkpoints (needed by ``checkpoint`` and ``export``);
    ``public_keys`` are extra keys trusted when verifying (earlier, rotated keys).
    ``checkpoint_every`` signs a checkpoint automatically inside the append transaction
    each time the sequence crosses a multiple of it.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        public_keys: Sequence[Ed25519PublicKey] = (),
        clock: Clock = utc_now,
        checkpoint_every: int | None = None,
        max_batch: int = 1000,
        self_source: SourceRef | None = None,
    ) -> None:
        self.store = AuditStore(
            engine, signing_key=signing_key, public_keys=public_keys, checkpoint_every=checkpoint_every
        )
        self._clock = clock
        self._max_batch = max_batch
        self._self_source = self_source or SourceRef(department="data_bureau", source="audit_log")
        self._queue: asyncio.Queue[_Pending | object] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # --- appends ----------------------------------------------------------------------------------

    async def append(self, event: AuditEvent) -> AuditRecord:
        """Record one event durably; raises :class:`AuditWriteError` otherwise (fail closed)."""
        return (await self.append_many([event]))[0]

    async def append_many(self, events: Iterable[AuditEvent]) -> list[AuditRecord]:
        """Record several events atomically (same transaction), in order."""
        batch = list(events)
        if not batch:
            return []
        if self._closed:
            raise AuditClosedError("audit log is closed")
        queue = self._ensure_writer()
        now = self._clock()
        times = [(event.time or now).astimezone(UTC) for event in batch]
        future: asyncio.Future[list[AuditRecord]] = asyncio.get_running_loop().create_future()
        await queue.put(_Pending(batch, times, future))
        return await asyncio.shield(future)

    def _ensure_writer(self) -> asyncio.Queue[_Pending | object]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._writer is None or self._writer.done():
            self._loop = loop
            self._queue = asyncio.Queue()
            self._writer = loop.create_task(self._run(self._queue), name="audit-writer")
        return self._queue

    async def _run(self, queue: asyncio.Queue[_Pending | object]) -> None:
        stopping = False
        while not stopping:
            item = await queue.get()
            if item is _STOP:
                return
            assert isinstance(item, _Pending)
            batch = [item]
            size = len(item.events)
            while size < self._max_batch and not queue.empty():
                more = queue.get_nowait()
                if more is _STOP:
                    stopping = True
                    break
                assert isinstance(more, _Pending)
                batch.append(more)
                size += len(more.events)
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        events = [event for pending in batch for event in pending.events]
        times = [time for pending in batch for time in pending.times]
        try:
            records = await asyncio.to_thread(self.store.append_batch, events, times)
        except Exception as exc:
            # Only the exception type is logged: driver messages may echo parameters.
            logger.error("audit append failed (%s); %d events not recorded", type(exc).__name__, len(events))
            for pending in batch:
                if not pending.future.done():
                    error = AuditWriteError("audit record could not be written")
                    error.__cause__ = exc
                    pending.future.set_exception(error)
            return
        start = 0
        for pending in batch:
            end = start + len(pending.events)
            if not pending.future.done():
                pending.future.set_result(records[start:end])
            start = end

    async def aclose(self) -> None:
        """Flush what is queued, then stop the writer. Later appends raise :class:`AuditClosedError`."""
        self._closed = True
        if self._queue is not None and self._writer is not None and not self._writer.done():
            if self._loop is asyncio.get_running_loop():
                await self._queue.put(_STOP)
                await self._writer
            else:  # pragma: no cover - a writer left on a finished loop
                self._writer.cancel()
        self._writer = None
        self._queue = None

    # --- checkpoints and verification -------------------------------------------------------------

    async def checkpoint(self) -> Checkpoint:
        """Sign (seq, head hash, time) of the current head. Call periodically (e.g. each minute)."""
        return await asyncio.to_thread(self.store.checkpoint, self._clock())

    async def verify(self) -> VerifyResult:
        return await asyncio.to_thread(self.store.verify)

    # --- auditor and citizen reads ----------------------------------------------------------------

    async def _record_self(
        self, actor: Requester, action: Action, subject: Subject | None, service: str, request_id: str | None
    ) -> None:
        source = self._self_source.model_copy(update={"service": service})
        await self.append(
            AuditEvent(
                action=action,
                requester=actor,
                source=source,
                subject=subject,
                outcome=Outcome.OK,
                request_id=request_id,
            )
        )

    async def query(
        self,
        filters: AuditFilters,
        *,
        actor: Requester,
        cursor: str | None = None,
        limit: int = 50,
        request_id: str | None = None,
    ) -> Page[AuditRecordView]:
        """Auditor search, newest first. The query itself is recorded first (fail closed)."""
        await self._record_self(actor, Action.AUDIT_QUERY, filters.subject, "query", request_id)
        return await asyncio.to_thread(self.store.query, filters, cursor, limit)

    async def access_log_for(
        self,
        subject: Subject,
        *,
        actor: Requester | None = None,
        cursor: str | None = None,
        limit: int = 50,
        request_id: str | None = None,
    ) -> Page[AccessLogEntry]:
        """Who read this person's data (time, receiver, purpose, source); restricted records hidden."""
        if actor is not None:
            await self._record_self(actor, Action.ACCESS_LOG_VIEW, subject, "access_log", request_id)
        return await asyncio.to_thread(self.store.access_log, subject.key, cursor, limit)

    # --- export -----------------------------------------------------------------------------------

    async def iter_export(self, *, actor: Requester, request_id: str | None = None) -> AsyncIterator[str]:
        """Bundle lines (each ending in a newline): header, checkpoints, records, end.

        The export is recorded, then a fresh checkpoint signs the head (when the log holds
        a signing key), so the bundle is anchored up to and including its own export record.
        """
        await self._record_self(actor, Action.AUDIT_EXPORT, None, "export", request_id)
        if self.store.public_keys and self.store._signing_key is not None:
            final = await self.checkpoint()
            upto = final.seq
        else:
            upto = (await asyncio.to_thread(self.store.head))[0]
        checkpoints = await asyncio.to_thread(self.store.checkpoints, upto)
        header = self.store.bundle_header(upto, len(checkpoints), self._clock())
        yield _line(header)
        for checkpoint in checkpoints:
            yield _line({"type": "checkpoint", **checkpoint_document(checkpoint)})
        after, count = 0, 0
        while True:
            rows = await asyncio.to_thread(self.store.record_rows, after, upto, READ_CHUNK)
            for row in rows:
                yield _line(bundle_record(row))
            count += len(rows)
            if len(rows) < READ_CHUNK:
                break
            after = rows[-1]["seq"]
        yield _line({"type": "end", "records": count, "checkpoints": len(checkpoints)})

    async def export(self, stream: IO[str], *, actor: Requester, request_id: str | None = None) -> int:
        """Write the bundle to a text stream; returns the number of lines written."""
        lines = 0
        async for line in self.iter_export(actor=actor, request_id=request_id):
            stream.write(line)
            lines += 1
        with contextlib.suppress(AttributeError, ValueError):
            stream.flush()
        return lines


def _line(item: dict[str, object]) -> str:
    # Bundle lines use the same canonical JSON as the hashes; any JSON parser reads them.
    return canonical_json(item).decode("utf-8") + "\n"
