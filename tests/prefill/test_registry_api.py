"""The shared-field registry over HTTP: lifecycle and history, ownership, every bad input with its
problem code, optimistic concurrency, the admin trail — and the effect on the next prefill, against
the in-process simulator, without a restart."""

from __future__ import annotations

import time

import pytest

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import persona_by_name

THEME = "flexible-employment"
RESIDENCE = {
    "code": "psb_residence_address",
    "theme": THEME,
    "label": "居住地址",
    "description": "公安实有人口登记的居住地址",
    "type": "string",
    "sensitivity": "sensitive",
    "masking": "address",
    "sharing_class": "conditional",
    "legal_basis": "《湖北省政务数据共享管理办法》；申请人授权",
    "source": "psb_household",
    "request_name": "JZDZ",
    "response_path": "JZDZ",
    "transform": "strip",
}
MAPPING = {
    "field": "psb_residence_address",
    "merged_field": "residence_address",
    "original_form": "employment_registration_form",
    "original_field": "常住地址",
}


@pytest.fixture
def api(client, auth_headers):
    """``api("post", path, role, department=None, json=..., headers=...)`` → response."""

    def call(method: str, path: str, role: str, department: str | None = None, **kw):
        headers = {**auth_headers(role, department), **kw.pop("headers", {})}
        return client.request(method, f"/v1/registry{path}", headers=headers, **kw)

    return call


def problem(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["code"]


def register(api, body: dict | None = None, department: str = "psb"):
    return api("post", "/fields", "department", department, json=body or RESIDENCE)


def go_live(api, code: str = "psb_residence_address") -> dict:
    assert api("post", f"/fields/{code}/approve", "admin").status_code == 200
    response = api("post", f"/fields/{code}/activate", "department", "psb")
    assert response.status_code == 200, response.text
    return response.json()


def prefill(client, auth_headers, persona: str = "complete") -> dict:
    assertion = issue_assertion(SimulatorConfig(), persona_by_name(persona).id_number)
    headers = {**auth_headers("frontend"), "X-Applicant-Assertion": assertion}
    response = client.post("/v1/prefill", json={"theme": THEME}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def by_code(items: list[dict]) -> dict[str, dict]:
    return {item["code"]: item for item in items}


def test_lifecycle_versions_and_history(api):
    created = register(api)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/registry/fields/psb_residence_address"
    assert created.json()["state"] == "draft" and created.json()["version"] == 1
    assert created.json()["department"] == "psb" and created.headers["etag"] == '"1"'
    assert api("get", "/fields", "frontend").json()["items"] == []  # drafts are not listed as active

    edited = api(
        "put",
        "/fields/psb_residence_address",
        "department",
        "psb",
        json={**{k: v for k, v in RESIDENCE.items() if k != "code"}, "label": "常住地址"},
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["label"] == "常住地址"
    assert problem(api("post", "/fields/psb_residence_address/activate", "department", "psb"), 409) == (
        "invalid_transition"
    )  # a draft is approved first
    live = go_live(api)
    assert live["state"] == "active" and live["version"] == 4

    listed = api("get", "/fields", "auditor").json()["items"]
    assert [(f["code"], f["department"], f["version"]) for f in listed] == [
        ("psb_residence_address", "psb", 4)
    ]

    deprecated = api(
        "post", "/fields/psb_residence_address/deprecate", "department", "psb", json={"version": 4}
    )
    assert deprecated.json()["state"] == "deprecated" and deprecated.json()["version"] == 5
    assert api("get", "/fields", "frontend").json()["items"] == []
    assert [f["code"] for f in api("get", "/fields?state=all", "frontend").json()["items"]] == [
        "psb_residence_address"
    ]
    history = api("get", "/fields/psb_residence_address/history", "window").json()["versions"]
    assert [(v["version"], v["change"], v["state"]) for v in history] == [
        (1, "registered", "draft"),
        (2, "updated", "draft"),
        (3, "approved", "approved"),
        (4, "activated", "active"),
        (5, "deprecated", "deprecated"),
    ]
    assert history[0]["snapshot"]["label"] == "居住地址" and history[1]["snapshot"]["label"] == "常住地址"
    assert (
        problem(api("post", "/fields/psb_residence_address/activate", "admin"), 409) == "invalid_transition"
    )


def test_an_edit_of_an_active_field_needs_a_fresh_approval(api):
    register(api)
    go_live(api)
    body = {**{k: v for k, v in RESIDENCE.items() if k != "code"}, "version": 3}
    edited = api("put", "/fields/psb_residence_address", "department", "psb", json=body)
    assert edited.json()["state"] == "draft" and edited.json()["version"] == 4
    assert api("get", "/fields", "frontend").json()["items"] == []


def test_the_admin_trail_records_every_change_without_values(api):
    register(api)
    go_live(api)
    api("post", "/mappings", "admin", json=MAPPING)
    events = api("get", "/events", "auditor").json()["items"]
    assert [(e["action"], e["actor_role"], e["from_state"], e["to_state"]) for e in events] == [
        ("field.registered", "department", None, "draft"),
        ("field.approved", "admin", "draft", "approved"),
        ("field.activated", "department", "approved", "active"),
        ("mapping.created", "admin", None, "active"),
    ]
    assert events[0]["actor_department"] == "psb" and events[0]["entity_id"] == "psb_residence_address"
    assert problem(api("get", "/events", "department", "psb"), 403) == "forbidden"


def test_a_department_writes_only_its_own_fields(api):
    register(api)
    body = {k: v for k, v in RESIDENCE.items() if k != "code"}
    other = api(
        "put", "/fields/psb_residence_address", "department", "employment_center", json={**body, "version": 1}
    )
    assert problem(other, 403) == "not_owner"
    assert (
        problem(api("post", "/fields/psb_residence_address/deprecate", "department", "tax"), 403)
        == "not_owner"
    )
    assert (
        problem(api("post", "/fields/psb_residence_address/approve", "department", "psb"), 403) == "forbidden"
    )
    # ...nor registers a field of another department's source.
    foreign = register(api, {**RESIDENCE, "code": "hrss_email", "source": "hrss_employment"})
    assert problem(foreign, 403) == "source_of_other_department"
    assert problem(api("post", "/fields", "admin", json={**RESIDENCE, "code": "x_admin"}), 403) == (
        "department_role_required"
    )
    assert problem(api("post", "/mappings", "department", "psb", json=MAPPING), 403) == "forbidden"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"code": "name"}, 409, "duplicate_code"),  # a catalogue field
        ({"code": "hukou_address"}, 409, "duplicate_code"),  # a configured source field
        ({"source": "psb_nowhere"}, 422, "unknown_source"),
        ({"response_path": "DATA..JZDZ"}, 422, "invalid_response_path"),
        ({"response_path": ".JZDZ"}, 422, "invalid_response_path"),
        ({"response_path": "JZ DZ"}, 422, "invalid_response_path"),
        ({"codeset": "no_such_set"}, 422, "unknown_codeset"),
        ({"type": "code", "codeset": None}, 422, "unknown_codeset"),
        ({"sensitivity": "secret"}, 422, "validation_failed"),
        ({"sharing_class": "never"}, 422, "validation_failed"),
        ({"unexpected": 1}, 422, "validation_failed"),
    ],
)
def test_bad_registrations_are_problems_naming_the_reason(api, change, status, code):
    response = register(api, {**RESIDENCE, **change})
    assert problem(response, status) == code
    assert api("get", "/fields?state=all", "admin").json()["items"] == []


def test_a_code_is_registered_once(api):
    assert register(api).status_code == 201
    assert problem(register(api), 409) == "duplicate_code"


def test_mapping_rules_are_checked(api):
    register(api)
    coded = {**RESIDENCE, "code": "psb_gender_code", "type": "code", "codeset": "gender", "masking": None}
    register(api, coded)
    cases = [
        ({**MAPPING, "merged_field": "no_such_field"}, 422, "unknown_merged_field"),
        ({**MAPPING, "merged_field": "name"}, 409, "merged_field_provided"),
        ({**MAPPING, "merged_field": "political_status"}, 422, "type_mismatch"),
        (
            {**MAPPING, "field": "psb_gender_code", "merged_field": "political_status"},
            422,
            "codeset_mismatch",
        ),
        ({**MAPPING, "original_form": "no_such_form"}, 422, "unknown_original_form"),
        ({**MAPPING, "field": "nobody"}, 422, "unknown_field"),
        ({**MAPPING, "original_field": None}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        assert problem(api("post", "/mappings", "admin", json=body), status) == code, body
    first = api("post", "/mappings", "admin", json=MAPPING)
    assert first.status_code == 201, first.text
    assert problem(api("post", "/mappings", "admin", json=MAPPING), 409) == "mapping_exists"
    retired = api("post", f"/mappings/{first.json()['id']}/retire", "admin")
    assert retired.json()["state"] == "retired"
    assert api("post", "/mappings", "admin", json=MAPPING).status_code == 201  # free again
    assert (
        problem(api("post", f"/mappings/{first.json()['id']}/retire", "admin"), 409) == "invalid_transition"
    )


def test_waiver_rules_are_checked(api):
    base = {"theme": THEME, "material": "household_register"}
    cases = [
        ({**base, "material": "nothing", "certificate": "id_card"}, 422, "unknown_material"),
        ({**base, "material": "labour_contract", "certificate": "id_card"}, 422, "waiver_not_applicable"),
        ({**base, "certificate": "passport"}, 422, "unknown_certificate_type"),
        ({**base, "source": "psb_identity", "fields": ["hukou_region_code"]}, 422, "waiver_not_applicable"),
        ({**base, "source": "psb_household", "fields": ["residence_address"]}, 422, "waiver_not_applicable"),
        ({**base, "source": "psb_household"}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        assert problem(api("post", "/waivers", "admin", json=body), status) == code, body


def test_concurrent_edits_one_wins_the_other_gets_409(api):
    register(api)
    body = {k: v for k, v in RESIDENCE.items() if k != "code"}
    first = api(
        "put",
        "/fields/psb_residence_address",
        "department",
        "psb",
        json={**body, "label": "甲"},
        headers={"If-Match": '"1"'},
    )
    second = api(
        "put",
        "/fields/psb_residence_address",
        "department",
        "psb",
        json={**body, "label": "乙"},
        headers={"If-Match": '"1"'},
    )
    assert first.status_code == 200
    assert problem(second, 409) == "version_conflict"
    assert api("get", "/fields/psb_residence_address", "admin").json()["label"] == "甲"
    assert problem(api("put", "/fields/psb_residence_address", "department", "psb", json=body), 428) == (
        "version_required"
    )
    mismatch = api(
        "put",
        "/fields/psb_residence_address",
        "department",
        "psb",
        json={**body, "version": 2},
        headers={"If-Match": '"1"'},
    )
    assert problem(mismatch, 400) == "bad_request"


def test_an_approved_field_appears_in_the_next_prefill_and_disappears_when_deprecated(
    client, auth_headers, api
):
    before = by_code(prefill(client, auth_headers)["fields"])["residence_address"]
    assert before["status"] == "to_fill" and before["reason"] == "applicant_fills"

    register(api)
    assert api("post", "/mappings", "admin", json=MAPPING).status_code == 201
    approved = api("post", "/fields/psb_residence_address/approve", "admin")
    assert approved.status_code == 200
    # Approved is not yet in service.
    assert by_code(prefill(client, auth_headers)["fields"])["residence_address"]["status"] == "to_fill"
    go = api("post", "/fields/psb_residence_address/activate", "department", "psb")
    assert go.status_code == 200

    after = by_code(prefill(client, auth_headers)["fields"])["residence_address"]
    assert after["status"] == "verified" and after["locked"]
    assert after["source"] == "psb_household" and after["department"] == "psb"
    assert after["value"] == persona_by_name("complete").records["psb_household"]["hukou_address"]

    api("post", "/fields/psb_residence_address/deprecate", "department", "psb")
    gone = by_code(prefill(client, auth_headers)["fields"])["residence_address"]
    assert gone["status"] == "to_fill" and gone["reason"] == "applicant_fills" and gone["value"] is None


def test_a_waiver_rule_waives_a_material_at_the_next_prefill(client, auth_headers, api):
    # The household-register certificate of this persona is revoked: the material is required.
    revoked = by_code(prefill(client, auth_headers, "certificate-revoked")["materials"])
    assert revoked["household_register"]["status"] == "required"
    register(api)
    api("post", "/mappings", "admin", json=MAPPING)
    go_live(api)
    rule = api(
        "post",
        "/waivers",
        "admin",
        json={
            "theme": THEME,
            "material": "household_register",
            "source": "psb_household",
            "fields": ["hukou_region_code", "residence_address"],
        },
    )
    assert rule.status_code == 201, rule.text
    waived = by_code(prefill(client, auth_headers, "certificate-revoked")["materials"])["household_register"]
    assert waived["status"] == "waived" and waived["method"] == "shared_record"
    assert waived["evidence"] == {"source": "psb_household", "fields": "hukou_region_code,residence_address"}

    api("post", f"/waivers/{rule.json()['id']}/retire", "admin")
    again = by_code(prefill(client, auth_headers, "certificate-revoked")["materials"])["household_register"]
    assert again["status"] == "required"


def test_a_mapping_into_an_original_form_reaches_the_split_submission(client, auth_headers, api):
    """拆分还原 follows the registry: the mapped original-form field is delivered with the value."""
    register(api)
    mapping = {**MAPPING, "original_form": "sscard_application_form", "original_field": "现居住地址"}
    assert api("post", "/mappings", "admin", json=mapping).status_code == 201
    go_live(api)
    prefilled = prefill(client, auth_headers)
    values = {f["code"]: f["value"] for f in prefilled["fields"] if f["value"] is not None}
    values.update(
        mailing_address="湖北省武汉市江汉区测试路1号",
        employment_form="3",
        employment_start_date="2026-11-01",
        card_delivery="1",
    )
    submitted = client.post(
        "/v1/applications",
        json={"prefill_token": prefilled["prefill_token"], "values": values},
        headers=auth_headers("frontend"),
    )
    assert submitted.status_code == 201, submitted.text

    application = submitted.json()["id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = client.get(f"/v1/applications/{application}", headers=auth_headers("frontend")).json()
        if status["status"] == "delivered":
            break
        time.sleep(0.02)
    assert status["status"] == "delivered"
    received = client.app.state.prefill.runtime.simulator.app.state.simulator.received.values()
    sscard = next(item["body"] for item in received if item["body"]["form"] == "sscard_application_form")
    assert sscard["fields"]["现居住地址"] == values["residence_address"]
