"""The shape of the catalogue's data files. Strict: an unknown key is an error, not a silent default."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(Strict):
    """Where a fact comes from: the plan's section, or an assumption and why it was made."""

    plan: str | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _named_or_reasoned(self) -> Provenance:
        if not self.plan and not self.assumption:
            raise ValueError("provenance needs `plan` (the section naming it) or `assumption` (why)")
        return self


class DayRange(Strict):
    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> DayRange:
        if self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Theme(Strict):
    code: str
    name: str
    name_en: str
    province: str
    source_document: str
    steps_after: int = Field(ge=1)
    visits_to_apply_after: int = Field(ge=0)
    merged_form: str


class Department(Strict):
    code: str
    name: str
    sources: list[str] = []


class CertificateType(Strict):
    code: str
    name: str
    issuer_department: str


class Output(Strict):
    code: str
    name: str
    mailable: bool


class Matter(Strict):
    code: str
    name: str
    levels: list[str] = Field(min_length=1)
    statutory_days: int = Field(ge=0)
    promised_days: DayRange
    department: str
    depends_on: list[str] = []
    steps_before: int = Field(ge=0)
    visits_before: int = Field(ge=0)
    outputs: list[str] = []
    provenance: Provenance


class ReductionMethod(StrEnum):
    electronic_form = "electronic_form"
    not_necessary = "not_necessary"
    deduplicated = "deduplicated"


class Reduction(Strict):
    method: ReductionMethod | None
    form: str | None = None  # electronic_form: the original form it was
    duplicate_of: str | None = None  # deduplicated: the material that already proves the same

    @model_validator(mode="after")
    def _consistent(self) -> Reduction:
        if (self.method is ReductionMethod.electronic_form) != (self.form is not None):
            raise ValueError("`form` is given exactly when method is electronic_form")
        if (self.method is ReductionMethod.deduplicated) != (self.duplicate_of is not None):
            raise ValueError("`duplicate_of` is given exactly when method is deduplicated")
        return self


class Waiver(Strict):
    """Evidence that waives a still-asked material: a verified certificate or verified shared fields."""

    certificate: str | None = None
    shared_record: str | None = None
    fields: list[str] = []

    @model_validator(mode="after")
    def _one_kind(self) -> Waiver:
        if (self.certificate is None) == (self.shared_record is None):
            raise ValueError("a waiver names either `certificate` or `shared_record`")
        if self.shared_record is not None and not self.fields:
            raise ValueError("a shared_record waiver lists the `fields` that must be verified")
        return self


class Material(Strict):
    code: str
    name: str
    required_by: list[str] = Field(min_length=1)
    reduction: Reduction
    waivable_by: list[Waiver] = []
    provenance: Provenance


FieldType = Literal[
    "string", "date", "code", "region", "mobile", "id_number", "email", "postal_code", "money"
]
MaskingKind = Literal[
    "name", "id_number", "mobile", "fixed_phone", "address", "email", "bank_card", "password"
]


class CanonicalField(Strict):
    code: str
    label: str
    type: FieldType
    codeset: str | None = None
    max_length: int | None = Field(default=None, gt=0)
    masking: MaskingKind | None = None
    synonyms: list[str] = []
    provided_by: str | None  # a source code, "assertion", or None (the applicant fills it)
    needed_by: Literal["all"] | list[str]
    required: bool

    @model_validator(mode="after")
    def _coded_fields_name_their_set(self) -> CanonicalField:
        if self.type in ("code", "region") and self.codeset is None:
            raise ValueError(f"a field of type {self.type} names its `codeset`")
        return self


class FormField(Strict):
    name: str
    field: str
    codeset: str | None = None  # the department's own code set, when it differs from the canonical one


class OriginalForm(Strict):
    code: str
    name: str
    department: str
    matters: list[str] = Field(min_length=1)
    fields: list[FormField] = Field(min_length=1)


class MergedForm(Strict):
    code: str
    name: str


class Forms(Strict):
    merged: MergedForm
    original: list[OriginalForm]


class CodeSet(Strict):
    standard: str
    codes: dict[str, str] = Field(min_length=1)
    open: bool = False
    pattern: str | None = None

    @model_validator(mode="after")
    def _open_sets_have_a_pattern(self) -> CodeSet:
        if self.open and not self.pattern:
            raise ValueError("an open code set gives the `pattern` its codes match")
        return self


class Translation(Strict):
    from_: str = Field(alias="from")
    to: str
    map: dict[str, str] = Field(min_length=1)


class CodeSets(Strict):
    codesets: dict[str, CodeSet]
    translations: list[Translation] = []


class FieldReductionEntry(Strict):
    name: str
    field: str | None


class FieldReductions(Strict):
    deduplicated_by_sharing: list[FieldReductionEntry]
    non_required: list[FieldReductionEntry]
    prefilled_from_sharing: list[FieldReductionEntry]
