"""POST /v1/applications and GET /v1/applications/{id}: submit the merged form, follow its delivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from prefill.applications.schemas import ApplicationRequest, ApplicationView
from prefill.auth.policy import Principal, require
from prefill.auth.service import Role
from prefill.deps import StateDep

router = APIRouter(prefix="/v1/applications", tags=["applications"])

ApplicationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The application's id.")]


@router.post(
    "",
    status_code=201,
    summary="Submit the merged form: re-check locked values, validate, store, split and deliver",
    responses={200: {"description": "The same submission was already made: its application"}},
)
def submit_application(
    body: ApplicationRequest,
    principal: Annotated[Principal, Depends(require("applications.submit"))],
    state: StateDep,
    response: Response,
) -> ApplicationView:
    result = state.applications.service.submit(body.prefill_token, body.values, client_id=principal.client_id)
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = f"{router.prefix}/{result.application.id}"
    return result.application


@router.get("/{application_id}", summary="An application and each department form's delivery status")
def get_application(
    application_id: ApplicationId,
    principal: Annotated[Principal, Depends(require("applications.read"))],
    state: StateDep,
) -> ApplicationView:
    # Only the client that submitted an application sees it (an admin any, should the matrix allow).
    client_id = None if principal.role is Role.admin else principal.client_id
    return state.applications.service.get(application_id, client_id=client_id)
