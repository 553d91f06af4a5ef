"""Response schemas of the catalogue endpoints."""

from __future__ import annotations

from pydantic import BaseModel

from prefill.catalog.loader import Catalogue
from prefill.catalog.schemas import (
    CanonicalField,
    CertificateType,
    CodeSets,
    Department,
    FieldReductions,
    Forms,
    Material,
    Matter,
    Output,
    Theme,
)


class ThemeView(BaseModel):
    theme: Theme
    departments: list[Department]
    matters: list[Matter]
    outputs: list[Output]
    materials: list[Material]
    fields: list[CanonicalField]
    forms: Forms
    codesets: CodeSets
    certificate_types: list[CertificateType]
    field_reductions: FieldReductions

    @classmethod
    def from_catalogue(cls, c: Catalogue) -> ThemeView:
        return cls(
            theme=c.theme,
            departments=list(c.departments.values()),
            matters=list(c.matters.values()),
            outputs=list(c.outputs.values()),
            materials=list(c.materials.values()),
            fields=list(c.fields.values()),
            forms=c.forms,
            codesets=c.codesets,
            certificate_types=list(c.certificate_types.values()),
            field_reductions=c.field_reductions,
        )


class BeforeAfter(BaseModel):
    before: int
    after: int


class MaterialFigures(BaseModel):
    before: int
    after: int
    after_with_certificates: int
    reduced_by: dict[str, int]


class DayRange(BaseModel):
    min: int
    max: int


class WorkingDays(BaseModel):
    before: int
    after: DayRange


class FieldFigures(BaseModel):
    merged_form: int
    deduplicated_by_sharing: int
    non_required: int
    prefilled_from_sharing: int


class PlanReport(BaseModel):
    theme: str
    name: str
    matters: int
    departments: int
    forms: BeforeAfter
    materials: MaterialFigures
    trips: BeforeAfter
    steps: BeforeAfter
    working_days: WorkingDays
    fields: FieldFigures
    mailable_outputs: list[str]
