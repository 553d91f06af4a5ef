"""Access control over HTTP: applicant assertions, window staff, rate limits, headers, and logs that carry
no personal values through the persona flows."""

from __future__ import annotations

import logging
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import PERSONAS
from prefill.app import create_app
from prefill.auth.policy import ApplicantDep, Principal, require
from prefill.logs import JsonFormatter
from prefill.settings import Settings

PROBE = "/test-probe"
SIMULATOR = SimulatorConfig(secrets={})
WINDOW_CONTEXT = {"X-Operator-ID": "op-0042", "X-Case-Number": "WH-2026-000123"}


def _assertion(persona: str = "complete") -> str:
    return issue_assertion(SIMULATOR, PERSONAS[persona].id_number)


def _with_probe(app: FastAPI) -> FastAPI:
    """A route that needs the `prefill` permission and an applicant, and tells who it saw."""

    @app.post(PROBE)
    def probe(
        applicant: ApplicantDep, principal: Annotated[Principal, Depends(require("prefill"))]
    ) -> dict[str, str | None]:
        return {
            "subject_key": applicant.subject_key,
            "role": principal.role.value,
            "operator_id": principal.operator_id,
            "case_number": principal.case_number,
        }

    app.state.access_policy = app.state.access_policy.with_routes({("POST", PROBE): "prefill"})
    return app


@pytest.fixture
def probe_client(settings):
    with TestClient(_with_probe(create_app(settings))) as client:
        yield client


def _problem(response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.json()["code"]


def test_a_frontend_call_gets_the_applicant_of_its_assertion(probe_client, auth_headers):
    headers = auth_headers("frontend") | {"X-Applicant-Assertion": _assertion()}
    response = probe_client.post(PROBE, headers=headers)
    assert response.status_code == 200
    assert response.json()["role"] == "frontend"
    assert len(response.json()["subject_key"]) == 64  # a pseudonym, not the ID number
    replayed = probe_client.post(PROBE, headers=headers)
    assert replayed.status_code == 401 and _problem(replayed) == "assertion_replayed"


@pytest.mark.parametrize(
    ("assertion", "code"),
    [
        (None, "assertion_required"),
        ("not-a-jwt", "assertion_invalid"),
        (
            issue_assertion(SIMULATOR, PERSONAS["complete"].id_number, audience="another-service"),
            "assertion_invalid",
        ),
        (issue_assertion(SIMULATOR, PERSONAS["complete"].id_number, now=1_600_000_000), "assertion_expired"),
    ],
)
def test_without_a_valid_assertion_there_is_no_applicant(probe_client, auth_headers, assertion, code):
    headers = auth_headers("frontend") | ({"X-Applicant-Assertion": assertion} if assertion else {})
    response = probe_client.post(PROBE, headers=headers)
    assert response.status_code == 401
    assert _problem(response) == code
    assert "ApplicantAssertion" in response.headers["www-authenticate"]


def test_roles_that_do_not_act_for_applicants_are_refused(probe_client, auth_headers):
    for role in ("auditor", "admin", "department"):
        headers = auth_headers(role) | {"X-Applicant-Assertion": _assertion()}
        response = probe_client.post(PROBE, headers=headers)
        assert response.status_code == 403 and _problem(response) == "forbidden", role


def test_window_staff_must_name_operator_and_case(probe_client, auth_headers):
    window = auth_headers("window") | {"X-Applicant-Assertion": _assertion()}
    for missing in ("X-Operator-ID", "X-Case-Number"):
        partial = {k: v for k, v in WINDOW_CONTEXT.items() if k != missing}
        response = probe_client.post(PROBE, headers=window | partial)
        assert response.status_code == 400 and _problem(response) == "window_context_required"
        assert missing in response.json()["detail"]
    malformed = probe_client.post(PROBE, headers=window | WINDOW_CONTEXT | {"X-Case-Number": "a b; drop"})
    assert malformed.status_code == 400 and _problem(malformed) == "window_context_required"
    # The refusals did not use up the applicant's assertion.
    response = probe_client.post(PROBE, headers=window | WINDOW_CONTEXT)
    assert response.status_code == 200
    assert response.json()["operator_id"] == "op-0042" and response.json()["case_number"] == "WH-2026-000123"


def test_the_per_client_rate_limit_answers_429_with_retry_after(tmp_path, database_url, auth_headers):
    settings = Settings(
        database_url=database_url, data_dir=tmp_path / "var", simulator_port=0, rate_limit_client_per_minute=3
    )
    with TestClient(create_app(settings)) as client:
        theme = "/v1/catalog/themes/flexible-employment/report"
        assert [client.get(theme, headers=auth_headers("frontend")).status_code for _ in range(3)] == [
            200
        ] * 3
        limited = client.get(theme, headers=auth_headers("frontend"))
        assert limited.status_code == 429 and _problem(limited) == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["x-content-type-options"] == "nosniff"
        # Another client has its own bucket.
        assert client.get(theme, headers=auth_headers("auditor")).status_code == 200


def test_the_per_applicant_rate_limit_answers_429_with_retry_after(tmp_path, database_url, auth_headers):
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        simulator_port=0,
        rate_limit_subject_per_minute=2,
    )
    with TestClient(_with_probe(create_app(settings))) as client:

        def call(persona: str, role: str = "frontend"):
            headers = auth_headers(role) | WINDOW_CONTEXT | {"X-Applicant-Assertion": _assertion(persona)}
            return client.post(PROBE, headers=headers)

        assert call("complete").status_code == 200
        assert call("complete", "window").status_code == 200  # the limit is the applicant's, across clients
        limited = call("complete")
        assert limited.status_code == 429 and _problem(limited) == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        assert call("never-insured").status_code == 200


def test_unknown_fields_in_a_body_are_refused(client, auth_headers):
    headers = auth_headers("frontend") | {"X-Applicant-Assertion": _assertion()}
    response = client.post("/v1/prefill", headers=headers, json={"theme": "flexible-employment", "id": "x"})
    assert response.status_code == 422 and _problem(response) == "validation_failed"


def test_refusals_carry_the_security_headers(client):
    response = client.get("/v1/catalog/themes/flexible-employment")
    assert response.status_code == 401
    for name in ("x-content-type-options", "x-frame-options", "content-security-policy", "cache-control"):
        assert name in response.headers


def _personal_values() -> set[str]:
    values: set[str] = set()
    for persona in PERSONAS.values():
        values |= {persona.id_number, persona.full_name, persona.mobile, persona.birth_date}
        for record in persona.records.values():
            # Short codes ("1", "01", "420100") say nothing about a person; names, numbers, addresses do.
            values |= {v for v in record.values() if len(v) >= 8 or any(ord(ch) > 127 for ch in v)}
    return values


def test_logs_of_the_persona_flows_carry_no_personal_values(probe_client, auth_headers, dev_keys, caplog):
    caplog.set_level(logging.DEBUG)
    tokens: list[str] = []
    for name in PERSONAS:
        for role in ("frontend", "window"):
            token = _assertion(name)
            tokens.append(token)
            headers = auth_headers(role) | WINDOW_CONTEXT | {"X-Applicant-Assertion": token}
            probe_client.post("/v1/prefill", headers=headers, json={"theme": "flexible-employment"})
            probe_client.post(PROBE, headers=headers)  # a replay: refused
        probe_client.post(PROBE, headers=auth_headers("window") | {"X-Applicant-Assertion": _assertion(name)})
        probe_client.post(
            PROBE, headers=auth_headers("auditor") | {"X-Applicant-Assertion": _assertion(name)}
        )
    assert caplog.records, "the flows logged nothing: the test would prove nothing"
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    keys = [dev_keys[role] for role in ("frontend", "window", "auditor")]
    leaks = sorted(v for v in _personal_values() | set(tokens) | set(map(str, keys)) if v in logged)
    assert leaks == []
