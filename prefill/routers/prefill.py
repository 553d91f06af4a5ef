"""POST /v1/prefill: the merged form, filled from shared data, with a decision for each material."""

from __future__ import annotations

from fastapi import APIRouter, Response

from prefill.auth.policy import ApplicantDep
from prefill.deps import StateDep
from prefill.middleware import request_id_var
from prefill.prefilling.schemas import PrefillRequest, PrefillResponse, prefill_json
from prefill.prefilling.service import caller_from

router = APIRouter(prefix="/v1", tags=["prefill"])


@router.post(
    "/prefill",
    summary="Prefill the merged form for the applicant of the assertion, and decide each material",
    # Documents the body; the endpoint sends it already serialised (prefill_json), so FastAPI does not
    # validate it a second time.
    response_model=PrefillResponse,
)
async def prefill(body: PrefillRequest, applicant: ApplicantDep, state: StateDep) -> Response:
    result = await state.prefill.prefill(
        body, caller_from(applicant.principal), applicant.subject, request_id_var.get()
    )
    return Response(content=prefill_json(result), media_type="application/json")
