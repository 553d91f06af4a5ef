"""The delivery worker: sends each split department form to the unified acceptance platform.

The outbox (``application_deliveries``) is the worker's whole state, so nothing is lost when the
platform is down or the service restarts: a new worker on the same database picks up what is due.
Each form is sent with its own ``Idempotency-Key`` and the same frozen body on every attempt, so a
redelivery (after a timeout whose answer was lost, or a crash between sending and recording) is
recognised by the platform instead of filed twice.

Claiming: a due row is leased by moving its ``next_attempt_at`` past the lease and counting the
attempt, in a short transaction (on PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED`` so
that several service instances share the work; everywhere the update is a compare-and-set on the old
due time, so two workers never both win a row). The HTTP call happens outside any transaction; a
worker that dies mid-call leaves the lease to expire and the row to be retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from connectors.signing import sign_request
from prefill.applications.crypto import DecryptionError, ValueCipher
from prefill.applications.models import ApplicationRow, DeliveryRow
from prefill.applications.service import (
    DELIVERED,
    FAILED,
    PENDING,
    application_status,
    delivery_associated_data,
    utcnow,
)

__all__ = ["AcceptanceEndpoint", "Backoff", "DeliveryReport", "DeliveryWorker", "classify_answer"]

log = logging.getLogger(__name__)

FORMS_PATH = "/uap/v1/forms"

# Answers worth retrying: the platform (or the way to it) is unwell, or it wants us to slow down, or
# it did not accept our signature (a clock skew or a rotated secret is fixed by operators, not by
# dropping the form).
RETRYABLE_STATUS = {401, 403, 408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class AcceptanceEndpoint:
    base_url: str
    app_key: str
    secret: str
    timeout_s: float = 10.0


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with "equal jitter": half the step fixed, half random."""

    base_s: float = 2.0
    factor: float = 2.0
    max_s: float = 600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        step = min(self.max_s, self.base_s * self.factor ** max(0, attempts - 1))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True)
class _Claimed:
    id: str
    application_id: str
    form: str
    idempotency_key: str
    attempts: int
    payload_blob: bytes


@dataclass(frozen=True)
class _Outcome:
    status: str  # delivered | pending (retry) | failed
    error: str | None = None
    receipt_id: str | None = None


def classify_answer(status_code: int, body: Any) -> _Outcome:
    """What an answer of the platform means for the delivery. Pure."""
    if status_code in (200, 201):
        receipt = body.get("receipt_id") if isinstance(body, dict) else None
        if isinstance(receipt, str) and receipt:
            return _Outcome(DELIVERED, receipt_id=receipt[:64])
        return _Outcome(PENDING, error="bad_receipt")
    if status_code in RETRYABLE_STATUS:
        return _Outcome(PENDING, error=f"platform_http_{status_code}")
    return _Outcome(FAILED, error=f"rejected_http_{status_code}")


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        http: httpx.AsyncClient,
        endpoint: AcceptanceEndpoint,
        cipher: ValueCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
        signing_clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        batch_size: int = 16,
        lease_s: float = 60.0,
        poll_interval_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.http = http
        self.endpoint = endpoint
        self.cipher = cipher
        self.clock = clock  # schedules attempts (due times, backoff, leases)
        self.signing_clock = signing_clock  # the wall time a signature states; the platform checks it
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()  # jitter, not secrecy
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_s)
        self.poll_interval_s = poll_interval_s
        self._url = endpoint.base_url.rstrip("/") + FORMS_PATH
        self._path = httpx.URL(self._url).raw_path.decode()
        self._postgres = engine.dialect.name == "postgresql"
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- claiming and recording (synchronous: run in a thread) --

    def _claim(self, now: datetime) -> list[_Claimed]:
        columns = (
            DeliveryRow.id,
            DeliveryRow.application_id,
            DeliveryRow.form,
            DeliveryRow.idempotency_key,
            DeliveryRow.attempts,
            DeliveryRow.next_attempt_at,
            DeliveryRow.payload_blob,
        )
        query = (
            select(*columns)  # type: ignore[call-overload]
            .where(DeliveryRow.status == PENDING, DeliveryRow.next_attempt_at <= now)
            .order_by(DeliveryRow.next_attempt_at)
            .limit(self.batch_size)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        claimed: list[_Claimed] = []
        with self.engine.begin() as connection:
            for row in connection.execute(query).all():
                won = connection.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.id == row.id,
                        DeliveryRow.status == PENDING,  # type: ignore[arg-type]
                        DeliveryRow.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=now + self.lease, attempts=row.attempts + 1)
                )
                if won.rowcount == 1:
                    claimed.append(
                        _Claimed(
                            row.id,
                            row.application_id,
                            row.form,
                            row.idempotency_key,
                            row.attempts + 1,
                            row.payload_blob,
                        )
                    )
        return claimed

    def _record(self, claimed: _Claimed, outcome: _Outcome, now: datetime) -> None:
        values: dict[str, Any] = {"status": outcome.status, "last_error": outcome.error}
        if outcome.status == DELIVERED:
            values |= {"receipt_id": outcome.receipt_id, "delivered_at": now}
        elif outcome.status == PENDING:
            delay = self.backoff.delay(claimed.attempts, self.rng)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        with self.engine.begin() as connection:
            connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == claimed.id, DeliveryRow.status == PENDING)  # type: ignore[arg-type]
                .values(**values)
            )
            self._refresh_application(connection, claimed.application_id)

    @staticmethod
    def _refresh_application(connection: Connection, application_id: str) -> None:
        statuses = connection.execute(
            select(DeliveryRow.status).where(DeliveryRow.application_id == application_id)  # type: ignore[call-overload]
        ).scalars()
        connection.execute(
            update(ApplicationRow)
            .where(ApplicationRow.id == application_id)  # type: ignore[arg-type]
            .values(status=application_status(statuses))
        )

    # -- sending --

    async def _send(self, claimed: _Claimed) -> _Outcome:
        try:
            payload = self.cipher.decrypt_json(
                claimed.payload_blob, delivery_associated_data(claimed.application_id, claimed.form)
            )
        except DecryptionError:
            return _Outcome(FAILED, error="payload_undecryptable")
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        headers = sign_request(
            "POST",
            self._path,
            body,
            app_key=self.endpoint.app_key,
            secret=self.endpoint.secret,
            timestamp=int(self.signing_clock()),
        )
        headers |= {"Content-Type": "application/json", "Idempotency-Key": claimed.idempotency_key}
        try:
            answer = await self.http.post(
                self._url, content=body, headers=headers, timeout=self.endpoint.timeout_s
            )
        except httpx.TimeoutException:
            return _Outcome(PENDING, error="platform_timeout")
        except httpx.HTTPError:
            return _Outcome(PENDING, error="platform_unreachable")
        try:
            answer_body: Any = answer.json()
        except ValueError:
            answer_body = None
        return classify_answer(answer.status_code, answer_body)

    async def _deliver(self, claimed: _Claimed, report: DeliveryReport) -> None:
        outcome = await self._send(claimed)
        await asyncio.to_thread(self._record, claimed, outcome, self.clock())
        context = {
            "application_id": claimed.application_id,
            "form": claimed.form,
            "attempts": claimed.attempts,
        }
        if outcome.status == DELIVERED:
            report.delivered += 1
            log.info("form delivered", extra=context)
        elif outcome.status == PENDING:
            report.retrying += 1
            log.warning("form delivery will be retried", extra={**context, "error": outcome.error})
        else:
            report.failed += 1
            log.error("form delivery refused", extra={**context, "error": outcome.error})

    async def run_once(self) -> DeliveryReport:
        """Deliver every form due now (one batch); the tests' deterministic step."""
        report = DeliveryReport()
        try:
            claimed = await asyncio.to_thread(self._claim, self.clock())
        except OperationalError:
            # SQLite: another process holds the write lock; the rows are still due next time.
            log.warning("outbox busy, will retry")
            return report
        await asyncio.gather(*(self._deliver(c, report) for c in claimed))
        return report

    # -- the background task --

    def notify(self) -> None:
        """Something was submitted: look at the outbox now. Safe to call from any thread."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                report = await self.run_once()
            except Exception:
                # A database or programming hiccup must not end delivery for the service's lifetime.
                log.exception("delivery round failed")
                report = DeliveryReport()
            if report.attempted >= self.batch_size:
                continue  # more may be due right now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)

    def start(self) -> asyncio.Task[None]:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="application-delivery")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._loop = None
