"""Request and response bodies of the registry API. Requests are strict: an unknown key is refused."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from prefill.catalog.schemas import FieldType, MaskingKind

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
ThemeCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,63}$")]
# The department's own name for the field, as its API wants it in the request.
RequestName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Transform = Literal["date_yyyymmdd", "date_iso", "decimal_2", "strip"]


class FieldState(StrEnum):
    draft = "draft"
    approved = "approved"
    active = "active"
    deprecated = "deprecated"


class RuleState(StrEnum):
    active = "active"
    retired = "retired"


class Sensitivity(StrEnum):
    """Grading of the data item (数据分级): public, internal, sensitive, core-sensitive."""

    public = "public"
    internal = "internal"
    sensitive = "sensitive"
    highly_sensitive = "highly_sensitive"


class SharingClass(StrEnum):
    """政务数据共享属性: 无条件共享 / 有条件共享 (不予共享 items are not registered at all)."""

    unconditional = "unconditional"
    conditional = "conditional"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Strict):
    """What a department states about a field it provides (every version carries all of it)."""

    theme: ThemeCode = Field(
        description="The theme whose catalogue gives the code sets, e.g. flexible-employment."
    )
    label: Text = Field(description="The label in Chinese, e.g. 常住地址.")
    description: LongText
    type: FieldType
    codeset: Code | None = Field(default=None, description="Catalogue code set of the values, if coded.")
    sensitivity: Sensitivity
    masking: MaskingKind | None = None
    sharing_class: SharingClass
    legal_basis: LongText
    source: Code = Field(description="The connectors source that answers it (its department's own).")
    request_name: RequestName = Field(description="The source's own name for the field in a request.")
    response_path: str = Field(
        max_length=200, description="Dotted path of the value in the source's answer data, e.g. JZDZ."
    )
    transform: Transform | None = None


class FieldRegistration(FieldSpec):
    code: Code = Field(description="The shared field's code; unique across the catalogue and registry.")


class FieldUpdate(FieldSpec):
    version: int | None = Field(
        default=None, ge=1, description="The version the change is based on (or send If-Match)."
    )


class Transition(_Strict):
    version: int | None = Field(default=None, ge=1)


class FieldOut(BaseModel):
    code: str
    theme: str
    department: str
    label: str
    description: str
    type: str
    codeset: str | None
    sensitivity: str
    masking: str | None
    sharing_class: str
    legal_basis: str
    source: str
    request_name: str
    response_path: str
    transform: str | None
    state: FieldState
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class FieldList(BaseModel):
    items: list[FieldOut]


class FieldVersionOut(BaseModel):
    version: int
    state: FieldState
    change: str
    changed_at: datetime
    changed_by: str
    snapshot: dict[str, Any]


class FieldHistory(BaseModel):
    code: str
    versions: list[FieldVersionOut]


class MappingRuleCreate(_Strict):
    field: Code = Field(description="The registry field.")
    merged_field: Code = Field(description="The merged-form (canonical) field it fills.")
    original_form: Code | None = Field(default=None, description="An original form that field fills…")
    original_field: Text | None = Field(default=None, description="…under this name in that form…")
    original_codeset: Code | None = Field(
        default=None, description="…in the form's own code set (translated from the merged field's)."
    )

    @model_validator(mode="after")
    def _form_and_name(self) -> MappingRuleCreate:
        if (self.original_form is None) != (self.original_field is None):
            raise ValueError("original_form and original_field are given together")
        if self.original_codeset is not None and self.original_form is None:
            raise ValueError("original_codeset needs original_form and original_field")
        return self


class MappingRuleOut(BaseModel):
    id: str
    theme: str
    field: str
    merged_field: str
    original_form: str | None
    original_field: str | None
    original_codeset: str | None
    state: RuleState
    created_at: datetime
    created_by: str
    retired_at: datetime | None


class WaiverRuleCreate(_Strict):
    theme: ThemeCode
    material: Code
    certificate: Code | None = Field(default=None, description="Waived when this certificate verifies…")
    source: Code | None = Field(default=None, description="…or when these fields of this source verify.")
    fields: list[Code] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _one_kind(self) -> WaiverRuleCreate:
        if (self.certificate is None) == (self.source is None):
            raise ValueError("a waiver names either `certificate` or `source` with `fields`")
        if self.source is not None and not self.fields:
            raise ValueError("a shared-record waiver lists the `fields` that must be verified")
        if self.certificate is not None and self.fields:
            raise ValueError("a certificate waiver lists no fields")
        return self


class WaiverRuleOut(BaseModel):
    id: str
    theme: str
    material: str
    certificate: str | None
    source: str | None
    fields: list[str]
    state: RuleState
    created_at: datetime
    created_by: str
    retired_at: datetime | None


class RuleList(BaseModel):
    mappings: list[MappingRuleOut]
    waivers: list[WaiverRuleOut]


class AdminEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str
    actor_department: str | None
    action: str
    entity: str
    entity_id: str
    version: int | None
    from_state: str | None
    to_state: str | None


class AdminEventList(BaseModel):
    items: list[AdminEventOut]
