"""The registry's effect, as pure functions: catalogues + source configurations + active registry
entries → the effective catalogues and source configurations the prefill flow uses.

No I/O, clock or settings. A rule that no longer applies (its field was deprecated, or the catalogue
changed under it) is left out and named in ``Overlay.skipped``, never guessed around.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from connectors.codesets import CodeSets
from connectors.config import FieldMapping, SourceConfig
from prefill.catalog.loader import Catalogue
from prefill.catalog.schemas import CanonicalField, FormField, OriginalForm, Waiver

TRANSLATION_PREFIX = "registry:"


@dataclass(frozen=True)
class RegisteredField:
    """An active registry field: what the overlay needs of it."""

    code: str
    theme: str
    department: str
    source: str
    request_name: str
    response_path: str
    type: str
    codeset: str | None = None
    transform: str | None = None


@dataclass(frozen=True)
class MappingRule:
    theme: str
    field: str
    merged_field: str
    original_form: str | None = None
    original_field: str | None = None
    original_codeset: str | None = None


@dataclass(frozen=True)
class WaiverRule:
    theme: str
    material: str
    certificate: str | None = None
    source: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistrySnapshot:
    """The active part of the registry at one generation."""

    generation: int
    fields: Mapping[str, RegisteredField]
    mappings: tuple[MappingRule, ...] = ()
    waivers: tuple[WaiverRule, ...] = ()


EMPTY = RegistrySnapshot(generation=0, fields=MappingProxyType({}))


@dataclass(frozen=True)
class Overlay:
    generation: int
    catalogues: Mapping[str, Catalogue]
    source_configs: Mapping[str, SourceConfig]
    code_sets: CodeSets
    skipped: tuple[str, ...]


def translation_name(from_set: str, to_set: str) -> str:
    """The connectors translation table a registry mapping reads through (``registry:a->b``)."""
    return f"{TRANSLATION_PREFIX}{from_set}->{to_set}"


def has_translation(catalogue: Catalogue, from_set: str, to_set: str) -> bool:
    return any((t.from_, t.to) == (from_set, to_set) for t in catalogue.codesets.translations)


def codeset_problem(catalogue: Catalogue, shared: RegisteredField, merged: CanonicalField) -> str | None:
    """Why the shared field cannot fill the merged-form field, or None when it can."""
    if shared.type != merged.type:
        return f"type: field {shared.code} is {shared.type}, {merged.code} is {merged.type}"
    if merged.codeset == shared.codeset:
        return None
    if merged.codeset is None or shared.codeset is None:
        return f"codeset: field {shared.code} has {shared.codeset}, {merged.code} has {merged.codeset}"
    if not has_translation(catalogue, shared.codeset, merged.codeset):
        return f"codeset: no translation from {shared.codeset} to {merged.codeset}"
    return None


def mapping_problem(
    catalogue: Catalogue,
    configs: Mapping[str, SourceConfig],
    shared: RegisteredField | None,
    rule: MappingRule,
) -> str | None:
    """Why ``rule`` cannot apply to the (base) catalogue, or None when it can."""
    if shared is None:
        return f"field {rule.field} is not active"
    if shared.theme != catalogue.theme.code:
        return f"field {rule.field} belongs to theme {shared.theme}"
    merged = catalogue.fields.get(rule.merged_field)
    if merged is None:
        return f"unknown merged-form field {rule.merged_field}"
    if merged.provided_by is not None:
        return f"merged-form field {rule.merged_field} is already provided by {merged.provided_by}"
    if shared.source not in configs or shared.source not in catalogue.source_departments:
        return f"unknown source {shared.source}"
    if (problem := codeset_problem(catalogue, shared, merged)) is not None:
        return problem
    if rule.original_form is not None:
        if rule.original_form not in catalogue.original_forms:
            return f"unknown original form {rule.original_form}"
        if rule.original_codeset is not None and (
            merged.codeset is None or not has_translation(catalogue, merged.codeset, rule.original_codeset)
        ):
            return f"codeset: no translation from {merged.codeset} to {rule.original_codeset}"
    return None


def waiver_problem(catalogue: Catalogue, rule: WaiverRule) -> str | None:
    """Why ``rule`` cannot apply to ``catalogue`` (the effective one: mapped fields count), or None."""
    material = catalogue.materials.get(rule.material)
    if material is None:
        return f"unknown material {rule.material}"
    if material.reduction.method is not None:
        return f"material {rule.material} is already reduced ({material.reduction.method.value})"
    if rule.certificate is not None:
        if rule.certificate not in catalogue.certificate_types:
            return f"unknown certificate type {rule.certificate}"
        return None
    if rule.source not in catalogue.source_departments:
        return f"unknown source {rule.source}"
    for code in rule.fields:
        spec = catalogue.fields.get(code)
        if spec is None or spec.provided_by != rule.source:
            return f"field {code} is not provided by {rule.source}"
    return None


def _with_form_field(form: OriginalForm, name: str, merged: str, codeset: str | None) -> OriginalForm:
    entry = FormField(name=name, field=merged, codeset=codeset)
    fields = [entry if f.name == name else f for f in form.fields]
    if all(f.name != name for f in form.fields):
        fields.append(entry)
    return form.model_copy(update={"fields": fields})


def effective_catalogue(
    catalogue: Catalogue,
    configs: Mapping[str, SourceConfig],
    snapshot: RegistrySnapshot,
    skipped: list[str] | None = None,
) -> Catalogue:
    """``catalogue`` with the snapshot's mapping and waiver rules of its theme applied."""
    skipped = skipped if skipped is not None else []
    theme = catalogue.theme.code
    fields = dict(catalogue.fields)
    forms = {f.code: f for f in catalogue.forms.original}
    taken: set[str] = set()
    for rule in (r for r in snapshot.mappings if r.theme == theme):
        shared = snapshot.fields.get(rule.field)
        problem = mapping_problem(catalogue, configs, shared, rule)
        if problem is None and rule.merged_field in taken:
            problem = f"merged-form field {rule.merged_field} is mapped twice"
        if problem is not None or shared is None:
            skipped.append(f"mapping {rule.field}->{rule.merged_field}: {problem}")
            continue
        taken.add(rule.merged_field)
        fields[rule.merged_field] = fields[rule.merged_field].model_copy(
            update={"provided_by": shared.source}
        )
        if rule.original_form is not None and rule.original_field is not None:
            forms[rule.original_form] = _with_form_field(
                forms[rule.original_form], rule.original_field, rule.merged_field, rule.original_codeset
            )
    mapped = dataclasses.replace(
        catalogue,
        fields=fields,
        forms=catalogue.forms.model_copy(update={"original": list(forms.values())}),
    )
    materials = dict(mapped.materials)
    for waiver in (w for w in snapshot.waivers if w.theme == theme):
        problem = waiver_problem(mapped, waiver)
        if problem is not None:
            skipped.append(f"waiver of {waiver.material}: {problem}")
            continue
        material = materials[waiver.material]
        extra = (
            Waiver(certificate=waiver.certificate)
            if waiver.certificate is not None
            else Waiver(shared_record=waiver.source, fields=list(waiver.fields))
        )
        if extra not in material.waivable_by:
            materials[waiver.material] = material.model_copy(
                update={"waivable_by": [*material.waivable_by, extra]}
            )
    return dataclasses.replace(mapped, materials=materials)


def _source_additions(
    catalogue: Catalogue, configs: Mapping[str, SourceConfig], snapshot: RegistrySnapshot
) -> Iterable[tuple[str, str, FieldMapping, tuple[str, str] | None]]:
    """(source, merged field, field mapping, translation needed) of every applicable mapping."""
    taken: set[str] = set()
    for rule in (r for r in snapshot.mappings if r.theme == catalogue.theme.code):
        shared = snapshot.fields.get(rule.field)
        if shared is None or rule.merged_field in taken:
            continue
        if mapping_problem(catalogue, configs, shared, rule) is not None:
            continue
        taken.add(rule.merged_field)
        merged = catalogue.fields[rule.merged_field]
        pair = (
            (shared.codeset, merged.codeset)
            if shared.codeset is not None and merged.codeset is not None and shared.codeset != merged.codeset
            else None
        )
        mapping = FieldMapping.model_validate(
            {
                "request": shared.request_name,
                "path": shared.response_path,
                "transform": shared.transform,
                "code_set": translation_name(*pair) if pair else None,
            }
        )
        yield shared.source, rule.merged_field, mapping, pair


def apply_registry(
    catalogues: Mapping[str, Catalogue],
    configs: Mapping[str, SourceConfig],
    code_sets: CodeSets,
    snapshot: RegistrySnapshot,
) -> Overlay:
    """The effective catalogues (per theme), source configurations and code sets of ``snapshot``.

    A source whose configuration is unchanged keeps the very same ``SourceConfig`` object, so the
    caller can tell which sources to rebuild by identity.
    """
    skipped: list[str] = []
    effective = {
        theme: effective_catalogue(catalogue, configs, snapshot, skipped)
        for theme, catalogue in catalogues.items()
    }
    extra_fields: dict[str, dict[str, FieldMapping]] = {}
    tables = dict(code_sets.translations)
    for catalogue in catalogues.values():
        for source, merged, mapping, pair in _source_additions(catalogue, configs, snapshot):
            extra_fields.setdefault(source, {})[merged] = mapping
            if pair is not None:
                tables[translation_name(*pair)] = MappingProxyType(catalogue.translation(*pair))
    sources = {
        source_id: (
            config.model_copy(update={"fields": {**config.fields, **extra_fields[source_id]}})
            if source_id in extra_fields
            else config
        )
        for source_id, config in configs.items()
    }
    return Overlay(
        generation=snapshot.generation,
        catalogues=MappingProxyType(effective),
        source_configs=MappingProxyType(sources),
        code_sets=CodeSets(labels=code_sets.labels, translations=MappingProxyType(tables)),
        skipped=tuple(skipped),
    )
