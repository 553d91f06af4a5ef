"""Schemathesis over the service's own OpenAPI document: no generated request gets a 5xx answer.

Each operation is called as a role the matrix allows (window staff with their context), and operations
that take an applicant get a fresh valid assertion, so that the fuzzed parameters and bodies reach the
endpoint instead of stopping at the door. Bounded (``EXAMPLES`` per operation) to stay well under a
minute; for a longer run: ``PREFILL_TEST_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest -m slow
tests/prefill/test_fuzz_openapi.py`` (docs/security.md).
"""

from __future__ import annotations

import os

import httpx
import pytest
from fastapi.testclient import TestClient

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import PERSONAS
from prefill.app import create_app
from prefill.auth.policy import ACCESS_POLICY, ASSERTION_HEADER, CASE_HEADER, OPERATOR_HEADER, PUBLIC
from prefill.auth.service import Role
from prefill.settings import Settings

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

EXAMPLES = int(os.environ.get("PREFILL_TEST_FUZZ_EXAMPLES", "25"))
SIMULATOR = SimulatorConfig(secrets={})


def _role_for(method: str, path: str) -> Role | None:
    roles = ACCESS_POLICY.roles_for(method, path)
    if roles is None:
        return None
    for preferred in (Role.frontend, Role.window, Role.auditor, Role.admin, Role.department):
        if preferred in roles:
            return preferred
    return None


def _send(client: TestClient, kwargs: dict) -> httpx.Response:
    body = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data.encode() if isinstance(data, str) else data
    return client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=kwargs.get("headers"),
        **body,
    )


def _fuzz(client: TestClient, operation, headers: dict[str, str], failures: list[str]) -> None:
    method, path = operation.method.upper(), operation.path

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy())
    def fuzz(case) -> None:
        extra = dict(headers)
        if ASSERTION_HEADER.lower() in {h.lower() for h in (case.headers or {})}:
            extra[ASSERTION_HEADER] = issue_assertion(SIMULATOR, PERSONAS["complete"].id_number)
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=extra)
        try:
            response = _send(client, kwargs)
        except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
            hypothesis.reject()  # not sendable over HTTP at all
        # 503 is the documented answer when a source or the database is unavailable, not a crash.
        if response.status_code >= 500 and response.status_code != 503:
            failures.append(f"{method} {path} -> {response.status_code}: {response.text[:200]}")

    fuzz()


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(tmp_path, database_url, auth_headers):
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        simulator_port=0,
        prefill_deadline_s=1.0,
        rate_limit_client_per_minute=1_000_000,
        rate_limit_subject_per_minute=1_000_000,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
        failures: list[str] = []
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            method, path = operation.method.upper(), operation.path
            if ACCESS_POLICY.permission_for(method, path) in (None, PUBLIC):
                role = None
            else:
                role = _role_for(method, path)
            headers = auth_headers(role.value, "psb") if role else {}
            if role is Role.window:
                headers |= {OPERATOR_HEADER: "op-0042", CASE_HEADER: "WH-2026-000123"}
            operations += 1

            _fuzz(client, operation, headers, failures)
        assert operations >= 5
        assert failures == [], "\n".join(failures[:10])
