"""Request and response of ``POST /v1/prefill`` (DESIGN §5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from prefill.mapping import FieldStatus, FilledField, MaterialDecision, MaterialStatus, Notice, Summary

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]


class PrefillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: Code = "flexible-employment"
    matters: Annotated[list[Code], Field(max_length=32)] | None = Field(
        default=None, description="A subset of the theme's matters; all of them when omitted."
    )


class Option(BaseModel):
    code: str
    label: str


class FieldOut(BaseModel):
    code: str
    label: str
    value: str | None
    status: FieldStatus
    locked: bool
    source: str | None
    department: str | None
    fetched_at: datetime | None
    reason: str
    required: bool
    type: str
    options: list[Option] | None


class MaterialOut(BaseModel):
    code: str
    name: str
    status: MaterialStatus
    method: str | None
    reason: str
    notice: str | None
    evidence: dict[str, str] | None


class SummaryOut(BaseModel):
    materials_before: int
    materials_required: int
    fields_total: int
    fields_prefilled: int
    fields_to_fill: int


class NoticeOut(BaseModel):
    code: str
    message: str
    source: str | None = None
    department: str | None = None
    fields: list[str] = []
    retry_at: datetime | None = None


class PrefillResponse(BaseModel):
    prefill_id: str
    theme: str
    matters: list[str]
    fields: list[FieldOut]
    materials: list[MaterialOut]
    summary: SummaryOut
    notices: list[NoticeOut]
    prefill_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PrefillResult:
    """A prefill's answer as the service built it, from its own typed objects: the same fields, in the
    same order, as ``PrefillResponse`` (which documents it in the OpenAPI schema).

    Serialised by ``prefill_json`` straight from these dataclasses: validating them into the pydantic
    model first (and FastAPI validating the model again) cost CPU on every prefill for values that
    cannot be wrong. ``tests/prefill/test_prefill_response.py`` pins the two to the same bytes."""

    prefill_id: str
    theme: str
    matters: list[str]
    fields: list[FilledField]
    materials: list[MaterialDecision]
    summary: Summary
    notices: list[Notice]
    prefill_token: str
    expires_at: datetime


_RESULT = TypeAdapter(PrefillResult)


def prefill_json(result: PrefillResult) -> bytes:
    """The JSON body of ``POST /v1/prefill``: what FastAPI would send for ``PrefillResponse``."""
    return _RESULT.dump_json(result)
