"""Request and answer shapes of ``/v1/applications`` (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

FieldCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FieldValue = Annotated[str, StringConstraints(max_length=1000)]

DeliveryStatus = Literal["pending", "delivered", "failed"]
ApplicationStatus = Literal["submitted", "delivering", "delivered", "delivery_failed"]


class ApplicationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prefill_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]
    values: dict[FieldCode, FieldValue | None] = Field(max_length=200)


class FormDelivery(BaseModel):
    form: str
    name: str
    department: str
    delivery: DeliveryStatus
    attempts: int
    receipt_id: str | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None


class ApplicationView(BaseModel):
    id: str
    status: ApplicationStatus
    theme: str
    matters: list[str]
    created_at: datetime
    forms: list[FormDelivery]
