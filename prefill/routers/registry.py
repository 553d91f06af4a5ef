"""The shared-field registry (docs/registry.md): fields departments share, their lifecycle and history,
the rules that map them into the merged form and waive materials, and the admin trail of changes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from prefill.auth.policy import PrincipalDep
from prefill.deps import get_state
from prefill.errors import BadRequestError
from prefill.registry.schemas import (
    AdminEventList,
    FieldHistory,
    FieldList,
    FieldOut,
    FieldRegistration,
    FieldState,
    FieldUpdate,
    MappingRuleCreate,
    MappingRuleOut,
    RuleList,
    Transition,
    WaiverRuleCreate,
    WaiverRuleOut,
)
from prefill.registry.service import RegistryService

router = APIRouter(prefix="/v1/registry", tags=["registry"])

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def get_registry(request: Request) -> RegistryService:
    return get_state(request).registry.service


RegistryDep = Annotated[RegistryService, Depends(get_registry)]
IfMatch = Annotated[
    str | None, Header(description='The version the change is based on, e.g. "3" (the ETag of the field).')
]


def _expected(if_match: str | None, body_version: int | None) -> int | None:
    """The version a change is based on: If-Match, else the body's ``version``; they must agree."""
    header = None
    if if_match is not None:
        match = _ETAG.match(if_match)
        if match is None:
            raise BadRequestError('If-Match must be a field version, e.g. "3"', field="If-Match")
        header = int(match.group(1))
    if header is not None and body_version is not None and header != body_version:
        raise BadRequestError("If-Match and version disagree", field="version")
    return header if header is not None else body_version


def _tagged(response: Response, field: FieldOut) -> FieldOut:
    response.headers["ETag"] = f'"{field.version}"'
    return field


@router.get("/fields", summary="Registered fields with owner and version (active ones by default)")
def list_fields(
    registry: RegistryDep,
    state: Annotated[FieldState | Literal["all"], Query(description="A state, or all")] = FieldState.active,
) -> FieldList:
    return FieldList(items=registry.list_fields(None if state == "all" else FieldState(state)))


@router.post(
    "/fields", status_code=status.HTTP_201_CREATED, summary="Register a field of your department (a draft)"
)
def register_field(
    body: FieldRegistration, principal: PrincipalDep, registry: RegistryDep, response: Response
) -> FieldOut:
    field = registry.register(principal, body)
    response.headers["Location"] = f"/v1/registry/fields/{field.code}"
    return _tagged(response, field)


@router.get("/fields/{code}", summary="One field, in its current version")
def get_field(code: str, registry: RegistryDep, response: Response) -> FieldOut:
    return _tagged(response, registry.get_field(code))


@router.get("/fields/{code}/history", summary="Every version of a field, oldest first")
def field_history(code: str, registry: RegistryDep) -> FieldHistory:
    return registry.history(code)


@router.put("/fields/{code}", summary="A new version of your field (If-Match or version); back to draft")
def update_field(
    code: str,
    body: FieldUpdate,
    principal: PrincipalDep,
    registry: RegistryDep,
    response: Response,
    if_match: IfMatch = None,
) -> FieldOut:
    expected = _expected(if_match, body.version)
    return _tagged(response, registry.update(principal, code, body, expected))


@router.post("/fields/{code}/approve", summary="Approve a draft (administrator)")
def approve_field(
    code: str,
    principal: PrincipalDep,
    registry: RegistryDep,
    response: Response,
    body: Transition | None = None,
    if_match: IfMatch = None,
) -> FieldOut:
    expected = _expected(if_match, body.version if body else None)
    return _tagged(response, registry.approve(principal, code, expected))


@router.post("/fields/{code}/activate", summary="Put an approved field in service (owner or administrator)")
def activate_field(
    code: str,
    principal: PrincipalDep,
    registry: RegistryDep,
    response: Response,
    body: Transition | None = None,
    if_match: IfMatch = None,
) -> FieldOut:
    expected = _expected(if_match, body.version if body else None)
    return _tagged(response, registry.activate(principal, code, expected))


@router.post(
    "/fields/{code}/deprecate", summary="Take a field out of service for good (owner or administrator)"
)
def deprecate_field(
    code: str,
    principal: PrincipalDep,
    registry: RegistryDep,
    response: Response,
    body: Transition | None = None,
    if_match: IfMatch = None,
) -> FieldOut:
    expected = _expected(if_match, body.version if body else None)
    return _tagged(response, registry.deprecate(principal, code, expected))


@router.get("/rules", summary="Mapping and waiver rules (active ones unless include_retired)")
def list_rules(registry: RegistryDep, include_retired: bool = False) -> RuleList:
    return registry.rules(include_retired)


@router.post(
    "/mappings",
    status_code=status.HTTP_201_CREATED,
    summary="Map a registry field into a merged-form field (administrator)",
)
def create_mapping(body: MappingRuleCreate, principal: PrincipalDep, registry: RegistryDep) -> MappingRuleOut:
    return registry.create_mapping(principal, body)


@router.post("/mappings/{rule_id}/retire", summary="Retire a mapping rule (administrator)")
def retire_mapping(rule_id: str, principal: PrincipalDep, registry: RegistryDep) -> MappingRuleOut:
    return registry.retire_mapping(principal, rule_id)


@router.post(
    "/waivers", status_code=status.HTTP_201_CREATED, summary="Add a material waiver rule (administrator)"
)
def create_waiver(body: WaiverRuleCreate, principal: PrincipalDep, registry: RegistryDep) -> WaiverRuleOut:
    return registry.create_waiver(principal, body)


@router.post("/waivers/{rule_id}/retire", summary="Retire a waiver rule (administrator)")
def retire_waiver(rule_id: str, principal: PrincipalDep, registry: RegistryDep) -> WaiverRuleOut:
    return registry.retire_waiver(principal, rule_id)


@router.get("/events", summary="The registry's admin audit trail: who changed what, when, from which state")
def list_events(
    registry: RegistryDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Events after this id")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AdminEventList:
    return registry.events(after=after, limit=limit)
