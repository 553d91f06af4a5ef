"""Signs an audit checkpoint at a steady pace, and once more at shutdown.

A checkpoint makes everything before it tamper-evident even against someone who rewrites the tail of
the chain; between checkpoints only the chain itself protects the newest records. Signing only when the
head moved keeps an idle service from filling the table with identical checkpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from audit.service import AuditLog

log = logging.getLogger(__name__)


class CheckpointScheduler:
    def __init__(self, audit_log: AuditLog, interval_s: float) -> None:
        self._audit_log = audit_log
        self._interval_s = interval_s
        self._signed_seq = -1
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def sign_if_moved(self) -> None:
        seq, _ = await asyncio.to_thread(self._audit_log.store.head)
        if seq > 0 and seq != self._signed_seq:
            checkpoint = await self._audit_log.checkpoint()
            self._signed_seq = checkpoint.seq

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)
            try:
                await self.sign_if_moved()
            except Exception as exc:  # the next round tries again; appends are unaffected
                log.error("audit checkpoint failed", extra={"error_type": type(exc).__name__})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-checkpoints")

    async def stop(self) -> None:
        """Stop the schedule after a last checkpoint over whatever was appended since the previous."""
        self._stop.set()
        if self._task is not None:
            await self._task
