"""POST /v1/prefill end to end: HTTP, access control, the in-process simulator over loopback, the
certificate library, the audit log and the mapping — for every persona."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import text

from connectors.simulator.config import Fault, SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import persona_by_name

PLAN_NINE = [
    "name",
    "gender",
    "mobile",
    "id_number",
    "birth_date",
    "insured_city",
    "insured_employer",
    "pension_insured_date",
    "medical_insured_date",
]


@pytest.fixture
def prefill(client, auth_headers):
    def call(persona: str, body: dict | None = None, role: str = "frontend", extra: dict | None = None):
        headers = {**auth_headers(role), "X-Applicant-Assertion": assertion(persona), **(extra or {})}
        return client.post("/v1/prefill", json=body or {}, headers=headers)

    return call


def assertion(persona: str) -> str:
    return issue_assertion(SimulatorConfig(), persona_by_name(persona).id_number)


def fields(response) -> dict[str, dict]:
    return {f["code"]: f for f in response.json()["fields"]}


def materials(response) -> dict[str, dict]:
    return {m["code"]: m for m in response.json()["materials"]}


def test_complete_persona(prefill):
    response = prefill("complete")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["theme"] == "flexible-employment" and len(body["matters"]) == 7
    by_code = fields(response)
    for code in PLAN_NINE:
        assert by_code[code]["status"] == "verified" and by_code[code]["locked"], code
        assert by_code[code]["value"]
    assert by_code["id_number"]["value"] == persona_by_name("complete").id_number
    assert by_code["name"]["source"] == "psb_identity" and by_code["name"]["department"] == "psb"
    assert (
        by_code["gender"]["type"] == "code" and {"code": "1", "label": "男性"} in by_code["gender"]["options"]
    )
    assert body["summary"]["materials_before"] == 19
    assert body["summary"]["materials_required"] == 5
    waived = {code for code, m in materials(response).items() if m["status"] == "waived"}
    assert waived == {"resident_id_card", "household_register"}
    assert materials(response)["resident_id_card"]["evidence"]["identifier"].startswith("1.2.156.3005.2.")
    assert body["summary"]["fields_to_fill"] == [f["status"] != "verified" for f in body["fields"]].count(
        True
    )
    assert body["prefill_token"] and body["expires_at"]
    # The token binds the locked values without carrying them.
    claims = jwt.decode(body["prefill_token"], options={"verify_signature": False})
    assert set(claims["lck"]) >= set(PLAN_NINE)
    assert persona_by_name("complete").id_number not in str(claims)


def test_certificate_revoked_requires_the_household_register_with_the_reason(prefill):
    response = prefill("certificate-revoked")
    decision = materials(response)["household_register"]
    assert decision["status"] == "required"
    assert "吊销" in decision["reason"] and "窗口工作人员" in decision["notice"]
    assert response.json()["summary"]["materials_required"] == 6


@pytest.mark.parametrize(
    ("persona", "material"),
    [("certificate-expired", "resident_id_card"), ("certificate-bad-signature", "household_register")],
)
def test_unverifiable_certificates_waive_nothing(prefill, persona, material):
    decision = materials(prefill(persona))[material]
    assert decision["status"] == "required" and decision["notice"]


def test_source_down_answers_with_fields_to_fill_and_a_notice(prefill):
    response = prefill("source-down")
    assert response.status_code == 200
    pension = [f for f in response.json()["fields"] if f["source"] == "hrss_pension"]
    assert pension and all(f["status"] == "unavailable" and f["value"] is None for f in pension)
    notices = {n["code"]: n for n in response.json()["notices"]}
    assert notices["source_unavailable"]["source"] == "hrss_pension"


def test_slow_source_is_cut_at_the_deadline(prefill, settings):
    response = prefill("slow-source")
    assert response.status_code == 200
    assert fields(response)["medical_insured_date"]["status"] == "unavailable"
    assert fields(response)["medical_insured_date"]["reason"] == "source_timeout"
    assert fields(response)["name"]["status"] == "verified"
    assert any(n["code"] == "source_timeout" for n in response.json()["notices"])


def test_never_insured_is_not_an_error(prefill):
    response = prefill("never-insured")
    assert response.status_code == 200
    for code in ("insured_city", "pension_insured_date", "medical_insured_date"):
        assert fields(response)[code]["status"] == "to_fill"
        assert fields(response)[code]["reason"] == "no_record_at_source"
    assert not any(n["code"].startswith("source_") for n in response.json()["notices"])


def test_unknown_person_invents_nothing(prefill):
    response = prefill("unknown-person")
    assert response.status_code == 200
    verified = {code for code, f in fields(response).items() if f["status"] == "verified"}
    assert verified == {"id_number", "id_type"}
    assert response.json()["notices"][0]["code"] == "subject_unknown"


def test_no_household_record(prefill):
    response = prefill("no-household-record")
    assert fields(response)["hukou_region_code"]["status"] == "to_fill"
    assert fields(response)["name"]["status"] == "verified"


def test_only_the_requested_matters_are_read_and_audited(prefill, client, settings):
    response = prefill("complete", {"matters": ["medical_enrolment"]})
    assert response.status_code == 200
    assert "dossier_holder" not in fields(response)
    assert set(materials(response)) == {"medical_registration_form", "id_card_or_sscard"}
    engine = client.app.state.prefill.engine
    with engine.connect() as connection:
        sources = {row[0] for row in connection.execute(text("SELECT source_name FROM audit_records"))}
    assert "talent_dossier" not in sources and "tax_contribution" not in sources
    assert {"psb_identity", "medical_insurance", "hrss_employment"} <= sources


def test_every_read_is_audited_with_masked_subject(prefill, client):
    prefill("complete")
    engine = client.app.state.prefill.engine
    id_number = persona_by_name("complete").id_number
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT source_name AS source, outcome, subject_display, action FROM audit_records")
        ).all()
    reads = {row.source: row for row in rows}
    assert {
        "psb_identity",
        "psb_household",
        "hrss_employment",
        "hrss_pension",
        "medical_insurance",
        "tax_contribution",
        "talent_dossier",
        "ecert_library",
    } <= set(reads)
    assert all(row.subject_display and id_number not in row.subject_display for row in rows)
    assert reads["psb_identity"].outcome == "ok"
    assert {row.action for row in rows} >= {"source_read", "certificate_lookup"}


def test_a_second_prefill_discloses_from_cache_and_says_so(prefill, client):
    prefill("complete")
    prefill("complete")
    with client.app.state.prefill.engine.connect() as connection:
        actions = [
            row[0]
            for row in connection.execute(
                text("SELECT action FROM audit_records WHERE source_name = 'psb_identity' ORDER BY seq")
            )
        ]
    assert actions == ["source_read", "cache_disclosure"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"matters": []}, "no_matters"),
        ({"matters": ["time_travel"]}, "unknown_matter"),
        ({"theme": "nope"}, "unknown_theme"),
        ({"theme": "flexible-employment", "extra": 1}, "validation_failed"),
        ({"matters": "medical_enrolment"}, "validation_failed"),
    ],
)
def test_bad_requests_are_problems(prefill, body, code):
    response = prefill("complete", body)
    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_window_staff_need_operator_and_case(prefill, client):
    refused = prefill("complete", role="window")
    assert refused.status_code in (400, 422) and refused.json()["code"] == "window_context_required"
    accepted = prefill(
        "complete", role="window", extra={"X-Operator-ID": "op-007", "X-Case-Number": "CASE-2026-1"}
    )
    assert accepted.status_code == 200
    with client.app.state.prefill.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT requester_operator_id, purpose_case_id FROM audit_records"
                " WHERE source_name = 'psb_identity'"
            )
        ).first()
    assert tuple(row) == ("op-007", "CASE-2026-1")


def test_certificate_library_down_means_paper_with_a_notice(prefill, client):
    simulator = client.app.state.prefill.runtime.simulator
    simulator.app.state.simulator.faults["ecert_library"] = Fault(down=True)
    response = prefill("complete")
    assert response.status_code == 200
    for code in ("resident_id_card", "household_register"):
        decision = materials(response)[code]
        assert decision["status"] == "required"
        assert "暂不可用" in decision["reason"] and "窗口工作人员" in decision["notice"]
    assert fields(response)["name"]["status"] == "verified"  # the sources still answered
