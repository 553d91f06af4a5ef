"""Splitting the merged form back into the original department forms (拆分还原). Pure.

Each original form a requested matter needs gets the fields it asks for, under its own field names,
with coded values translated into its department's code set where that differs from the canonical
one (``forms.yaml`` names the set, ``codesets.yaml`` the translation). Fields that no requested matter
needs were never collected and are left out; needed but unfilled optional fields are ``None`` (a blank
box on the department's form).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prefill.catalog.loader import Catalogue
from prefill.catalog.schemas import OriginalForm


@dataclass(frozen=True)
class DepartmentForm:
    form: str
    name: str
    department: str
    matters: tuple[str, ...]  # the form's matters among the requested ones
    fields: dict[str, str | None]  # the form's own field name -> value in the form's own code set


def forms_for(catalogue: Catalogue, matters: Iterable[str]) -> list[OriginalForm]:
    """The original forms the matters need, in catalogue order."""
    wanted = set(matters)
    return [form for form in catalogue.forms.original if wanted & set(form.matters)]


def split(catalogue: Catalogue, matters: Iterable[str], values: Mapping[str, str]) -> list[DepartmentForm]:
    """One :class:`DepartmentForm` per original form the matters need.

    ``values`` are validated canonical values (field code → value); a coded value outside the
    translation raises ``KeyError`` — validation must have refused it before.
    """
    requested = list(matters)
    needed = {spec.code: spec for spec in catalogue.fields_for(requested)}
    forms: list[DepartmentForm] = []
    for form in forms_for(catalogue, requested):
        fields: dict[str, str | None] = {}
        for form_field in form.fields:
            spec = needed.get(form_field.field)
            if spec is None:
                continue
            value = values.get(form_field.field)
            if value is not None and form_field.codeset is not None and form_field.codeset != spec.codeset:
                value = catalogue.translation(spec.codeset or "", form_field.codeset)[value]
            fields[form_field.name] = value
        forms.append(
            DepartmentForm(
                form=form.code,
                name=form.name,
                department=form.department,
                matters=tuple(m for m in form.matters if m in set(requested)),
                fields=fields,
            )
        )
    return forms
