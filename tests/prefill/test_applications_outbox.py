"""The delivery outbox against the real simulated acceptance platform over loopback HTTP.

Platform down → forms stay pending with their attempts counted; back up → delivered, also by a new
worker on the same database (a restart); redelivery under the same idempotency key is harmless.
"""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.simulator.app import create_simulator_app
from connectors.simulator.config import (
    ACCEPTANCE_SOURCE,
    DEV_ACCEPTANCE_APP_KEY,
    DEV_ACCEPTANCE_SECRET,
    Fault,
    SimulatorConfig,
    SimulatorState,
)
from prefill import db
from prefill.applications.crypto import ValueCipher
from prefill.applications.outbox import AcceptanceEndpoint, Backoff, DeliveryWorker, classify_answer
from prefill.applications.service import ApplicationService
from prefill.catalog.service import CatalogueStore
from prefill.tokens import PrefillTokenSigner
from tests.servers import serve_in_thread

from .applications_data import LOCKED_FIELDS, THEME, VALID_VALUES, all_matters, values_for

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC).replace(microsecond=0)
CIPHER = ValueCipher.from_hex("44" * 32)
SIGNER = PrefillTokenSigner(b"outbox-test-token-key-32-bytes!!", 1800)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Simulator:
    base_url: str
    state: SimulatorState


@pytest.fixture(scope="module")
def simulator_server() -> Iterator[Simulator]:
    """The real simulator app under uvicorn on a free 127.0.0.1 port, in a background thread."""
    app = create_simulator_app(SimulatorConfig())
    with serve_in_thread(app) as base_url:
        yield Simulator(base_url, app.state.simulator)


@pytest.fixture
def simulator(simulator_server: Simulator) -> Iterator[Simulator]:
    simulator_server.state.faults.clear()
    simulator_server.state.received.clear()
    yield simulator_server
    simulator_server.state.faults.clear()
    simulator_server.state.received.clear()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(engine: Engine, clock: Clock) -> ApplicationService:
    return ApplicationService(engine, CatalogueStore.load().get, SIGNER, CIPHER, clock=clock)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def worker_for(engine: Engine, http: httpx.AsyncClient, simulator: Simulator, clock: Clock) -> DeliveryWorker:
    endpoint = AcceptanceEndpoint(simulator.base_url, DEV_ACCEPTANCE_APP_KEY, DEV_ACCEPTANCE_SECRET, 5.0)
    return DeliveryWorker(engine, http, endpoint, CIPHER, clock=clock, rng=random.Random(7))


def submit(service: ApplicationService, matters: list[str] | None = None) -> str:
    matters = matters or all_matters()
    token, _ = SIGNER.issue(
        prefill_id=uuid.uuid4().hex,
        theme=THEME,
        matters=matters,
        subject_key="subject-pseudonym",
        locked_values={code: VALID_VALUES[code] for code in LOCKED_FIELDS},
        now=int(NOW.timestamp()),
    )
    return service.submit(token, values_for(matters)).application.id


def deliveries(engine: Engine) -> list[sa.Row]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.text("SELECT form, status, attempts, last_error, receipt_id FROM application_deliveries")
            ).all()
        )


async def test_each_form_is_delivered_once_with_its_own_names(engine, http, simulator, clock, service):
    application_id = submit(service)
    report = await worker_for(engine, http, simulator, clock).run_once()
    assert (report.delivered, report.retrying, report.failed) == (5, 0, 0)
    received = {item["body"]["form"]: item for item in simulator.state.received.values()}
    assert set(received) == {f.form for f in service.get(application_id).forms}
    tax = received["contribution_declaration_form"]
    assert tax["app_key"] == DEV_ACCEPTANCE_APP_KEY
    assert tax["body"]["department"] == "tax" and tax["body"]["application_id"] == application_id
    assert tax["body"]["fields"]["性别"] == "男" and tax["body"]["fields"]["缴费基数"] == "4000.00"
    assert received["medical_registration_form"]["body"]["fields"]["户口性质"] == "10"
    view = service.get(application_id)
    assert view.status == "delivered"
    assert all(f.delivery == "delivered" and f.receipt_id and f.attempts == 1 for f in view.forms)
    assert {f.receipt_id for f in view.forms} == {r["receipt"]["receipt_id"] for r in received.values()}
    # Nothing left: another round sends nothing.
    assert (await worker_for(engine, http, simulator, clock).run_once()).attempted == 0
    assert len(simulator.state.received) == 5


async def test_platform_down_then_back_after_a_restart(engine, http, simulator, clock, service):
    application_id = submit(service)
    simulator.state.faults[ACCEPTANCE_SOURCE] = Fault(down=True)
    worker = worker_for(engine, http, simulator, clock)
    report = await worker.run_once()
    assert (report.delivered, report.retrying) == (0, 5)
    rows = deliveries(engine)
    assert {(r.status, r.attempts, r.last_error) for r in rows} == {("pending", 1, "platform_http_503")}
    view = service.get(application_id)
    assert view.status == "submitted"
    assert all(f.next_attempt_at and f.next_attempt_at > NOW for f in view.forms)
    # Not due again until the backoff has passed.
    assert (await worker.run_once()).attempted == 0
    clock.advance(Backoff().max_s)
    assert (await worker.run_once()).retrying == 5
    assert {r.attempts for r in deliveries(engine)} == {2}

    # The platform is back; the service restarted: a new worker (and client) on the same database.
    simulator.state.faults.clear()
    clock.advance(Backoff().max_s)
    async with httpx.AsyncClient(trust_env=False) as fresh_http:
        report = await worker_for(engine, fresh_http, simulator, clock).run_once()
    assert report.delivered == 5
    assert {(r.status, r.attempts, r.last_error) for r in deliveries(engine)} == {("delivered", 3, None)}
    assert service.get(application_id).status == "delivered"
    assert len(simulator.state.received) == 5


async def test_redelivery_after_a_lost_answer_is_harmless(engine, http, simulator, clock, service):
    submit(service)
    await worker_for(engine, http, simulator, clock).run_once()
    first_receipts = {r.form: r.receipt_id for r in deliveries(engine)}
    # As if the service crashed after sending but before recording: the rows are pending again.
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE application_deliveries SET status = 'pending', receipt_id = NULL, delivered_at = NULL"
            )
        )
    clock.advance(61)  # the lease of the "crashed" round has run out
    report = await worker_for(engine, http, simulator, clock).run_once()
    assert report.delivered == 5
    assert {
        r.form: r.receipt_id for r in deliveries(engine)
    } == first_receipts  # the platform's same receipts
    assert len(simulator.state.received) == 5  # filed once


async def test_a_claimed_row_whose_worker_died_is_retried_after_the_lease(
    engine, http, simulator, clock, service
):
    submit(service, ["medical_enrolment"])
    dead = worker_for(engine, http, simulator, clock)
    assert len(dead._claim(clock())) == 1  # claimed, then the process "dies" before sending
    alive = worker_for(engine, http, simulator, clock)
    assert (await alive.run_once()).attempted == 0  # leased to the dead worker
    clock.advance(61)
    assert (await alive.run_once()).delivered == 1
    assert [(r.status, r.attempts) for r in deliveries(engine)] == [("delivered", 2)]


async def test_two_workers_never_deliver_the_same_form_twice(engine, http, simulator, clock, service):
    for _ in range(3):
        submit(service)
    workers = [worker_for(engine, http, simulator, clock) for _ in range(2)]
    for _ in range(3):  # on SQLite a round can find the outbox busy and leave its rows for the next
        await asyncio.gather(*(w.run_once() for w in workers))
    rows = deliveries(engine)
    assert len(rows) == 15
    assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
    assert len(simulator.state.received) == 15


async def test_a_permanent_refusal_marks_the_form_failed(engine, http, simulator, clock, service):
    application_id = submit(service, ["medical_enrolment"])
    with engine.connect() as connection:
        key = connection.execute(sa.text("SELECT idempotency_key FROM application_deliveries")).scalar_one()
    # The platform already holds another body under this key: it answers 422, which no retry fixes.
    simulator.state.received[key] = {"receipt": {}, "body_sha256": "0" * 64, "body": {}, "app_key": "x"}
    report = await worker_for(engine, http, simulator, clock).run_once()
    assert report.failed == 1
    view = service.get(application_id)
    assert view.status == "delivery_failed"
    assert (view.forms[0].delivery, view.forms[0].last_error) == ("failed", "rejected_http_422")


async def test_an_unreachable_platform_is_retried(engine, http, clock, service):
    submit(service, ["medical_enrolment"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    endpoint = AcceptanceEndpoint(
        f"http://127.0.0.1:{port}", DEV_ACCEPTANCE_APP_KEY, DEV_ACCEPTANCE_SECRET, 1.0
    )
    report = await DeliveryWorker(engine, http, endpoint, CIPHER, clock=clock).run_once()
    assert report.retrying == 1
    assert [(r.status, r.last_error) for r in deliveries(engine)] == [("pending", "platform_unreachable")]


async def test_the_background_task_delivers_when_notified(engine, http, simulator, service):
    worker = DeliveryWorker(
        engine,
        http,
        AcceptanceEndpoint(simulator.base_url, DEV_ACCEPTANCE_APP_KEY, DEV_ACCEPTANCE_SECRET),
        CIPHER,
        poll_interval_s=30,
    )
    worker.start()
    try:
        await asyncio.sleep(0.05)  # the first (empty) round
        submit(service, ["medical_enrolment"])
        worker.notify()
        for _ in range(200):
            if deliveries(engine)[0].status == "delivered":
                break
            await asyncio.sleep(0.01)
        assert deliveries(engine)[0].status == "delivered"
    finally:
        await worker.stop()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (201, {"receipt_id": "UAP1"}, ("delivered", None, "UAP1")),
        (200, {"receipt_id": "UAP1"}, ("delivered", None, "UAP1")),
        (201, {"no": "receipt"}, ("pending", "bad_receipt", None)),
        (201, None, ("pending", "bad_receipt", None)),
        (503, None, ("pending", "platform_http_503", None)),
        (429, None, ("pending", "platform_http_429", None)),
        (401, None, ("pending", "platform_http_401", None)),
        (400, None, ("failed", "rejected_http_400", None)),
        (422, None, ("failed", "rejected_http_422", None)),
    ],
)
def test_answers_are_classified(status, body, expected):
    outcome = classify_answer(status, body)
    assert (outcome.status, outcome.error, outcome.receipt_id) == expected


def test_backoff_grows_with_jitter_up_to_its_cap():
    backoff, rng = Backoff(base_s=2, factor=2, max_s=60), random.Random(1)
    for attempts, step in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (30, 60)]:
        delays = {backoff.delay(attempts, rng) for _ in range(20)}
        assert all(step / 2 <= d <= step for d in delays)
        assert len(delays) > 1  # jittered
