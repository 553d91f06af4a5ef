"""The prefill body is serialised straight from the service's dataclasses (``prefill_json``), not
through the pydantic response model: both must give the same bytes, and the model must still
document the body."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter

from connectors.base import Outcome
from prefill.mapping import CertificateEvidence, build_prefill
from prefill.prefilling.schemas import PrefillResponse, PrefillResult, prefill_json

from .test_mapping import ALL, CATALOGUE, SUBJECT, VALUES, result


def _result(outcome_of: dict[str, Outcome], certificates: dict[str, CertificateEvidence]) -> PrefillResult:
    results = {source: result(source, outcome_of.get(source, Outcome.OK)) for source in VALUES}
    outcome = build_prefill(CATALOGUE, ALL, results, certificates, SUBJECT)
    return PrefillResult(
        prefill_id="0" * 32,
        theme=CATALOGUE.theme.code,
        matters=ALL,
        fields=outcome.fields,
        materials=outcome.materials,
        summary=outcome.summary,
        notices=outcome.notices,
        prefill_token="header.payload.signature",
        expires_at=datetime(2026, 11, 25, 8, 30, tzinfo=UTC),
    )


VERIFIED = CertificateEvidence("resident_id_card", True, "verified", "核验通过", identifier="1.2.156.x")
FAILED = CertificateEvidence("household_register", False, "timeout", "超时", lookup_failed=True)


@pytest.mark.parametrize(
    ("outcomes", "certificates"),
    [
        ({}, {"resident_id_card": VERIFIED}),
        (
            {"psb_household": Outcome.TIMEOUT, "tax_contribution": Outcome.UNAVAILABLE},
            {"household_register": FAILED},
        ),
        ({"psb_identity": Outcome.NOT_FOUND}, {}),
    ],
)
def test_same_bytes_as_the_response_model(outcomes, certificates):
    body = _result(outcomes, certificates)
    model = TypeAdapter(PrefillResponse)
    validated = PrefillResponse.model_validate(
        {name: getattr(body, name) for name in PrefillResponse.model_fields}, from_attributes=True
    )
    assert prefill_json(body) == model.dump_json(validated)  # what FastAPI sent before
    assert list(json.loads(prefill_json(body))) == list(PrefillResponse.model_fields)


def test_result_has_the_fields_of_the_model():
    assert list(PrefillResult.__dataclass_fields__) == list(PrefillResponse.model_fields)
