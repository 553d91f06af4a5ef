"""Request and response of ``POST /v1/prefill`` (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from prefill.mapping import FieldStatus, MaterialStatus

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
