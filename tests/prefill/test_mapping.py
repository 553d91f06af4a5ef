"""The field-mapping layer: table-driven, pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import FieldValue, Outcome, Provenance, SourceResult
from prefill.catalog.loader import load_catalogue
from prefill.catalog.schemas import Waiver
from prefill.mapping import (
    CertificateEvidence,
    FieldStatus,
    MaterialStatus,
    build_prefill,
    decide_material,
    fill_fields,
    in_codeset,
)

CATALOGUE = load_catalogue("flexible-employment")
ALL = list(CATALOGUE.matters)
SUBJECT = "420102198803150137"
FETCHED = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

# Canonical values a complete persona's sources answer with (synthetic).
VALUES = {
    "psb_identity": {
        "name": "王测完",
        "gender": "1",
        "ethnicity": "01",
        "nationality": "CHN",
        "birth_date": "1988-03-15",
    },
    "psb_household": {
        "hukou_nature": "1",
        "hukou_region_code": "420102",
        "marital_status": "20",
        "education": "21",
    },
    "hrss_employment": {"mobile": "13800000001", "hardship_category": "0"},
    "hrss_pension": {
        "social_security_number": SUBJECT,
        "insured_city": "420100",
        "insured_employer": "灵活就业人员",
        "pension_insured_date": "2021-07-01",
    },
    "medical_insurance": {"medical_insured_date": "2021-07-01"},
    "tax_contribution": {"contribution_base": "4000.00"},
    "talent_dossier": {"dossier_holder": "湖北省人才服务中心", "dossier_region_code": "420100"},
}
DEPARTMENTS = CATALOGUE.source_departments


def result(source: str, outcome: Outcome = Outcome.OK, **overrides: str) -> SourceResult:
    values = {**VALUES[source], **overrides} if outcome is Outcome.OK else {}
    provenance = Provenance(source=source, department=DEPARTMENTS[source], fetched_at=FETCHED)
    return SourceResult(
        source=source,
        department=DEPARTMENTS[source],
        outcome=outcome,
        requested=frozenset(VALUES[source]),
        values={code: FieldValue(code, value, provenance) for code, value in values.items()},
        fetched_at=FETCHED,
    )


def all_ok(**outcomes: Outcome) -> dict[str, SourceResult]:
    return {source: result(source, outcomes.get(source, Outcome.OK)) for source in VALUES}


def certs(**verified: bool) -> dict[str, CertificateEvidence]:
    return {
        kind: CertificateEvidence(
            kind, ok, "verified" if ok else "revoked", "ok" if ok else "已吊销", "ID-" + kind
        )
        for kind, ok in verified.items()
    }


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


def test_complete_persona_fills_and_locks_the_plans_nine_fields_and_needs_five_materials():
    outcome = build_prefill(CATALOGUE, ALL, all_ok(), certs(id_card=True, household_register=True), SUBJECT)
    by_code = {f.code: f for f in outcome.fields}
    for code in PLAN_NINE:
        assert by_code[code].status is FieldStatus.verified and by_code[code].locked, code
    assert by_code["id_number"].value == SUBJECT
    assert by_code["name"].source == "psb_identity" and by_code["name"].fetched_at == FETCHED
    assert outcome.summary.materials_before == 19
    assert outcome.summary.materials_required == 5
    assert outcome.locked_values["insured_city"] == "420100"
    assert "email" not in outcome.locked_values
    assert outcome.summary.fields_prefilled + outcome.summary.fields_to_fill == outcome.summary.fields_total


@pytest.mark.parametrize(
    ("outcome", "status", "reason", "notice"),
    [
        (Outcome.NOT_FOUND, FieldStatus.to_fill, "no_record_at_source", None),
        (Outcome.UNAVAILABLE, FieldStatus.unavailable, "source_unavailable", "source_unavailable"),
        (Outcome.TIMEOUT, FieldStatus.unavailable, "source_timeout", "source_timeout"),
        (Outcome.MAINTENANCE, FieldStatus.unavailable, "source_maintenance", "source_maintenance"),
        (Outcome.REJECTED, FieldStatus.unavailable, "source_rejected", "source_rejected"),
    ],
)
def test_a_source_that_does_not_answer_leaves_its_fields_to_fill(outcome, status, reason, notice):
    fields, notices = fill_fields(CATALOGUE, ALL, all_ok(hrss_pension=outcome), SUBJECT)
    pension = [f for f in fields if f.source == "hrss_pension"]
    assert {f.code for f in pension} == set(VALUES["hrss_pension"])
    assert all(
        f.status is status and f.reason == reason and not f.locked and f.value is None for f in pension
    )
    assert [n.code for n in notices] == ([notice] if notice else [])
    if notice:
        assert notices[0].fields == sorted(VALUES["hrss_pension"], key=list(CATALOGUE.fields).index)
        assert "窗口工作人员" in notices[0].message


def test_a_value_outside_the_code_set_is_not_locked():
    results = all_ok()
    results["psb_identity"] = result("psb_identity", gender="7")
    fields, _ = fill_fields(CATALOGUE, ALL, results, SUBJECT)
    gender = next(f for f in fields if f.code == "gender")
    assert gender.status is FieldStatus.to_fill and gender.value is None
    assert gender.reason == "source_value_not_in_codeset"


def test_open_code_sets_accept_any_code_of_their_pattern():
    region = CATALOGUE.fields["hukou_region_code"]
    assert in_codeset(CATALOGUE, region, "110105")  # 北京 朝阳: not listed, but a GB/T 2260 code
    assert not in_codeset(CATALOGUE, region, "ABC123")
    assert not in_codeset(CATALOGUE, CATALOGUE.fields["gender"], "3")


def test_unknown_person_gets_a_notice_and_nothing_invented():
    results = {s: result(s, Outcome.NOT_FOUND) for s in VALUES}
    outcome = build_prefill(CATALOGUE, ALL, results, certs(), SUBJECT)
    assert {f.code for f in outcome.fields if f.status is FieldStatus.verified} == {"id_number", "id_type"}
    assert outcome.notices[0].code == "subject_unknown"


def test_only_the_requested_matters_fields_and_materials():
    outcome = build_prefill(CATALOGUE, ["medical_enrolment"], all_ok(), certs(), SUBJECT)
    codes = {f.code for f in outcome.fields}
    assert "medical_insured_date" in codes and "dossier_holder" not in codes
    assert {m.code for m in outcome.materials} == {"medical_registration_form", "id_card_or_sscard"}
    assert outcome.summary.materials_before == 2 and outcome.summary.materials_required == 0


def material(code: str):
    return CATALOGUE.materials[code]


@pytest.mark.parametrize(
    ("code", "certificates", "status", "method"),
    [
        ("employment_registration_form", {}, MaterialStatus.replaced_by_form, "electronic_form"),
        ("labour_contract", {}, MaterialStatus.not_necessary, "not_necessary"),
        ("valid_identity_document", {}, MaterialStatus.deduplicated, "deduplicated"),
        ("resident_id_card", {"id_card": True}, MaterialStatus.waived, "certificate"),
        ("resident_id_card", {"id_card": False}, MaterialStatus.required, None),
        ("resident_id_card", {}, MaterialStatus.required, None),
        ("household_register", {"household_register": True}, MaterialStatus.waived, "certificate"),
        ("household_register", {"id_card": True}, MaterialStatus.required, None),
        ("recent_photo", {"id_card": True, "household_register": True}, MaterialStatus.required, None),
    ],
)
def test_material_decisions(code, certificates, status, method):
    decision = decide_material(CATALOGUE, material(code), all_ok(), certs(**certificates))
    assert decision.status is status
    assert decision.method == method
    assert decision.reason


def test_a_failed_verification_says_why_and_tells_the_window():
    decision = decide_material(
        CATALOGUE, material("household_register"), all_ok(), certs(household_register=False)
    )
    assert decision.status is MaterialStatus.required
    assert "已吊销" in decision.reason
    assert decision.notice and "窗口工作人员" in decision.notice and "居民户口簿" in decision.notice


def test_a_waiver_names_its_evidence():
    decision = decide_material(CATALOGUE, material("resident_id_card"), all_ok(), certs(id_card=True))
    assert decision.evidence == {"certificate_type": "id_card", "identifier": "ID-id_card"}


def with_shared_waiver(code: str):
    waiver = Waiver(shared_record="hrss_pension", fields=["insured_city", "pension_insured_date"])
    return material(code).model_copy(update={"waivable_by": [waiver]})


@pytest.mark.parametrize(
    ("pension", "status", "has_notice"),
    [
        (Outcome.OK, MaterialStatus.waived, False),
        (Outcome.NOT_FOUND, MaterialStatus.required, True),
        (Outcome.UNAVAILABLE, MaterialStatus.required, True),
    ],
)
def test_shared_record_waivers(pension, status, has_notice):
    decision = decide_material(
        CATALOGUE, with_shared_waiver("bank_deduction_agreement"), all_ok(hrss_pension=pension), {}
    )
    assert decision.status is status
    assert (decision.notice is not None) is has_notice
    if status is MaterialStatus.waived:
        assert decision.method == "shared_record"
        assert decision.evidence == {"source": "hrss_pension", "fields": "insured_city,pension_insured_date"}
