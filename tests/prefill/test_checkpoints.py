"""The service signs audit checkpoints on a schedule and at shutdown, so the tail is anchored too."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from audit.store import AuditStore
from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import persona_by_name
from prefill import db
from prefill.app import create_app
from prefill.keys import audit_signing_key


def prefill_once(client: TestClient, auth_headers) -> None:
    assertion = issue_assertion(SimulatorConfig(), persona_by_name("complete").id_number)
    headers = {**auth_headers("frontend"), "X-Applicant-Assertion": assertion}
    assert client.post("/v1/prefill", json={}, headers=headers).status_code == 200


def verify(settings):
    engine = db.make_engine(settings.resolved_database_url)
    try:
        return AuditStore(engine, public_keys=[audit_signing_key(settings).public_key()]).verify()
    finally:
        engine.dispose()


def test_shutdown_signs_the_head(settings, auth_headers):
    with TestClient(create_app(settings)) as client:
        prefill_once(client, auth_headers)
    result = verify(settings)
    assert result.ok and result.checkpoints == 1
    assert result.anchored_seq == result.records


def test_a_running_service_signs_on_its_schedule(settings, auth_headers):
    fast = settings.model_copy(update={"audit_checkpoint_interval_s": 0.05})
    with TestClient(create_app(fast)) as client:
        prefill_once(client, auth_headers)
        deadline = time.monotonic() + 5
        while verify(fast).checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert verify(fast).checkpoints >= 1


def test_an_idle_service_signs_nothing(settings):
    with TestClient(create_app(settings)):
        pass
    assert verify(settings).checkpoints == 0
