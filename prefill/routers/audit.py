"""Audit endpoints: auditors search, verify and export the log; applicants see who read their data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from audit.errors import InvalidCursorError
from audit.schemas import AccessLogEntry, AuditFilters, AuditRecordView, Outcome, Page, Subject
from connectors.errors import InvalidIdNumber
from connectors.idnumber import validate_id_number
from prefill.auth.policy import ApplicantDep, Principal, require
from prefill.deps import StateDep
from prefill.errors import BadRequestError, ValidationFailedError
from prefill.middleware import request_id_var
from prefill.prefilling.service import requester_of

router = APIRouter(tags=["audit"])

Limit = Annotated[int, Query(ge=1, le=500)]


class InvalidCursorProblem(BadRequestError):
    code, title = "invalid_cursor", "Invalid cursor"


class InvalidIdNumberProblem(ValidationFailedError):
    code, title = "invalid_id_number", "Invalid ID number"


@router.get("/v1/audit/events", summary="Search the audit log (masked values only; the search is audited)")
async def list_events(
    state: StateDep,
    principal: Annotated[Principal, Depends(require("audit.read"))],
    subject_id_number: Annotated[
        str | None, Query(max_length=32, description="Whose data; hashed by the server, never stored")
    ] = None,
    requester: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    matter: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Outcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Limit = 50,
) -> Page[AuditRecordView]:
    subject = None
    if subject_id_number is not None:
        try:
            normalised = validate_id_number(subject_id_number)
        except InvalidIdNumber as exc:
            raise InvalidIdNumberProblem(
                f"subject_id_number: {exc.reason}", field="subject_id_number"
            ) from None
        subject = Subject.from_id_number(normalised, state.settings.pseudonym_key.get_secret_value().encode())
    try:
        filters = AuditFilters(
            subject=subject,
            requester=requester,
            department=department,
            source=source,
            matter=matter,
            outcome=outcome,
            since=since,
            until=until,
        )
    except ValueError as exc:
        raise ValidationFailedError(str(exc).splitlines()[0]) from None
    try:
        return await state.audit_log.query(
            filters,
            actor=requester_of(principal),
            cursor=cursor,
            limit=limit,
            request_id=request_id_var.get(),
        )
    except InvalidCursorError:
        raise InvalidCursorProblem("the cursor is not one this service issued", field="cursor") from None


@router.get("/v1/audit/verify", summary="Verify the hash chain and the signed checkpoints")
async def verify(
    state: StateDep, principal: Annotated[Principal, Depends(require("audit.verify"))]
) -> dict[str, Any]:
    return (await state.audit_log.verify()).summary()


@router.get(
    "/v1/audit/export",
    summary="Export the log as a bundle of JSON lines that `prefill audit verify-bundle` checks offline",
    response_class=StreamingResponse,
)
async def export(
    state: StateDep, principal: Annotated[Principal, Depends(require("audit.read"))]
) -> StreamingResponse:
    lines: AsyncIterator[str] = state.audit_log.iter_export(
        actor=requester_of(principal), request_id=request_id_var.get()
    )
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit-bundle.jsonl"'},
    )


@router.get("/v1/me/access-log", summary="Who read the applicant's own data: time, receiver, purpose, source")
async def my_access_log(
    state: StateDep,
    applicant: ApplicantDep,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Limit = 50,
) -> Page[AccessLogEntry]:
    subject = Subject.from_id_number(
        applicant.subject, state.settings.pseudonym_key.get_secret_value().encode()
    )
    try:
        return await state.audit_log.access_log_for(
            subject,
            actor=requester_of(applicant.principal),
            cursor=cursor,
            limit=limit,
            request_id=request_id_var.get(),
        )
    except InvalidCursorError:
        raise InvalidCursorProblem("the cursor is not one this service issued", field="cursor") from None
