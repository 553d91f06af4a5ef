"""/v1/applications end to end: a real prefill of the `complete` persona, the submission, its delivery
to the in-process simulated acceptance platform, and every refusal as problem+json naming the field."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from connectors.simulator.config import ACCEPTANCE_SOURCE, Fault, SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import persona_by_name

from .applications_data import VALID_VALUES

WINDOW_CONTEXT = {"X-Operator-ID": "op-007", "X-Case-Number": "CASE-2026-1"}


@pytest.fixture
def prefilled(client, auth_headers) -> dict:
    """A prefill of the `complete` persona for every matter, and the values a frontend would submit."""
    assertion = issue_assertion(SimulatorConfig(), persona_by_name("complete").id_number)
    response = client.post(
        "/v1/prefill", json={}, headers={**auth_headers("frontend"), "X-Applicant-Assertion": assertion}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    values = {}
    for field in body["fields"]:
        if field["locked"]:
            values[field["code"]] = field["value"]
        elif field["code"] in VALID_VALUES:
            values[field["code"]] = VALID_VALUES[field["code"]]
    return {"token": body["prefill_token"], "values": values, "fields": body["fields"]}


def submit(client, headers, token, values):
    return client.post("/v1/applications", json={"prefill_token": token, "values": values}, headers=headers)


def simulated_platform(client):
    return client.app.state.prefill.runtime.simulator.app.state.simulator


def wait_for(client, headers, application_id, predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/applications/{application_id}", headers=headers).json()
        if predicate(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def stored(client) -> tuple[int, int]:
    with client.app.state.prefill.engine.connect() as connection:
        return (
            connection.execute(text("SELECT COUNT(*) FROM applications")).scalar_one(),
            connection.execute(text("SELECT COUNT(*) FROM application_deliveries")).scalar_one(),
        )


def test_submit_twice_then_follow_delivery(client, auth_headers, prefilled):
    headers = auth_headers("frontend")
    first = submit(client, headers, prefilled["token"], prefilled["values"])
    assert first.status_code == 201, first.text
    body = first.json()
    assert first.headers["location"] == f"/v1/applications/{body['id']}"
    assert [(f["form"], f["department"]) for f in body["forms"]] == [
        ("employment_registration_form", "employment_center"),
        ("sscard_application_form", "hrss_info_center"),
        ("medical_registration_form", "medical_security"),
        ("contribution_declaration_form", "tax"),
        ("dossier_receive_application", "talent_center"),
    ]
    again = submit(client, headers, prefilled["token"], prefilled["values"])
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert stored(client) == (1, 5)

    final = wait_for(client, headers, body["id"], lambda b: b["status"] == "delivered")
    assert final["status"] == "delivered"
    assert {f["delivery"] for f in final["forms"]} == {"delivered"}
    received = simulated_platform(client).received.values()
    assert sorted(r["body"]["form"] for r in received) == sorted(f["form"] for f in final["forms"])
    tax = next(r["body"] for r in received if r["body"]["department"] == "tax")
    assert tax["fields"]["性别"] == "男"


def test_platform_down_leaves_forms_pending_with_their_attempts(client, auth_headers, prefilled):
    simulated_platform(client).faults[ACCEPTANCE_SOURCE] = Fault(down=True)
    headers = auth_headers("frontend")
    created = submit(client, headers, prefilled["token"], prefilled["values"])
    assert created.status_code == 201
    body = wait_for(client, headers, created.json()["id"], lambda b: all(f["last_error"] for f in b["forms"]))
    assert body["status"] == "submitted"
    for form in body["forms"]:
        assert (form["delivery"], form["last_error"]) == ("pending", "platform_http_503")
        assert form["attempts"] >= 1 and form["next_attempt_at"]
    assert simulated_platform(client).received == {}


def test_a_changed_locked_value_is_refused_naming_the_field(client, auth_headers, prefilled):
    values = {**prefilled["values"], "mobile": "13912345678"}
    response = submit(client, auth_headers("frontend"), prefilled["token"], values)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "locked_value_changed" and problem["fields"] == ["mobile"]
    assert "13912345678" not in response.text and "13800000001" not in response.text
    assert stored(client) == (0, 0)


def test_invalid_values_are_named_without_their_values(client, auth_headers, prefilled):
    values = {**prefilled["values"], "political_status": "99", "postal_code": "4300x1", "card_delivery": None}
    response = submit(client, auth_headers("frontend"), prefilled["token"], values)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_values"
    assert {(e["field"], e["reason"]) for e in problem["errors"]} == {
        ("political_status", "invalid_code"),
        ("postal_code", "invalid_postal_code"),
        ("card_delivery", "required"),
    }
    assert "4300x1" not in response.text
    assert stored(client) == (0, 0)


def test_forged_tokens_are_refused(client, auth_headers, prefilled):
    forged = prefilled["token"][:-4] + ("AAAA" if not prefilled["token"].endswith("AAAA") else "BBBB")
    for token in (forged, "eyJhbGciOiJIUzI1NiJ9.e30.forged", "x"):
        response = submit(client, auth_headers("frontend"), token, prefilled["values"])
        assert (response.status_code, response.json()["code"]) == (400, "prefill_token_invalid")
    assert stored(client) == (0, 0)


def test_an_expired_token_says_so(client, auth_headers, prefilled):
    signer = client.app.state.prefill.signer
    token, _ = signer.issue(
        prefill_id="expired-prefill",
        theme="flexible-employment",
        matters=["medical_enrolment"],
        subject_key="k",
        locked_values={},
        now=int(time.time()) - signer.ttl_seconds - 1,
    )
    response = submit(client, auth_headers("frontend"), token, {})
    assert (response.status_code, response.json()["code"]) == (422, "prefill_token_expired")


MALFORMED = [
    ({"prefill_token": "t", "values": {}, "extra": 1}, "extra"),
    ({"values": {}}, "prefill_token"),
    ({"prefill_token": "t", "values": {"name": 42}}, "values.name"),
    ({"prefill_token": "t", "values": {"name": "x" * 1001}}, "values.name"),
    ({"prefill_token": "t", "values": ["name"]}, "values"),
]


def test_malformed_bodies_are_refused_naming_the_field(client, auth_headers):
    for payload, field in MALFORMED:
        response = client.post("/v1/applications", json=payload, headers=auth_headers("frontend"))
        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "validation_failed"
        assert field in {e["field"] for e in problem["errors"]}
    assert stored(client) == (0, 0)


def test_non_json_and_oversized_bodies(client, auth_headers, settings):
    headers = {**auth_headers("frontend"), "Content-Type": "application/json"}
    garbled = client.post("/v1/applications", content=b"{not json", headers=headers)
    assert garbled.status_code == 422 and garbled.json()["code"] == "validation_failed"
    huge = client.post("/v1/applications", content=b" " * (settings.max_body_bytes + 1), headers=headers)
    assert huge.status_code == 413 and huge.json()["code"] == "body_too_large"


def test_access_control(client, auth_headers, prefilled):
    created = submit(client, auth_headers("frontend"), prefilled["token"], prefilled["values"])
    application_id = created.json()["id"]
    path = f"/v1/applications/{application_id}"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth_headers("auditor")).status_code == 403
    assert submit(client, auth_headers("auditor"), prefilled["token"], prefilled["values"]).status_code == 403
    # Another client does not learn that the application exists.
    other = client.get(path, headers={**auth_headers("window"), **WINDOW_CONTEXT})
    assert other.status_code == 404 and other.json()["code"] == "application_not_found"
    assert client.get(path, headers=auth_headers("frontend")).status_code == 200
    assert client.get("/v1/applications/not-an-id", headers=auth_headers("frontend")).status_code == 422
