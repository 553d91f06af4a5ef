"""Load a theme's catalogue from its data files and check that every reference in it resolves.

A broken file stops the service from starting with a message that names the file and the entry, so a
department editing the data sees at once what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from prefill.catalog.schemas import (
    CanonicalField,
    CertificateType,
    CodeSets,
    Department,
    FieldReductions,
    Forms,
    Material,
    Matter,
    OriginalForm,
    Output,
    Theme,
)

ASSERTION = "assertion"  # provided_by value: the applicant's verified identity, not a department source

Model = TypeVar("Model", bound=BaseModel)


class CatalogueError(ValueError):
    """The catalogue data is broken; names the file and the entry."""

    def __init__(self, file: str, entry: str | None, problem: str) -> None:
        self.file, self.entry, self.problem = file, entry, problem
        where = f"{file}, entry {entry!r}" if entry is not None else file
        super().__init__(f"catalogue {where}: {problem}")


@dataclass(frozen=True)
class Catalogue:
    """One theme's catalogue, indexed by code. Built only by :func:`load_catalogue`."""

    theme: Theme
    departments: dict[str, Department]
    matters: dict[str, Matter]
    outputs: dict[str, Output]
    materials: dict[str, Material]
    fields: dict[str, CanonicalField]
    forms: Forms
    codesets: CodeSets
    certificate_types: dict[str, CertificateType]
    field_reductions: FieldReductions
    source_departments: dict[str, str] = field(default_factory=dict)

    @property
    def original_forms(self) -> dict[str, OriginalForm]:
        return {form.code: form for form in self.forms.original}

    def fields_for(self, matters: Iterable[str]) -> list[CanonicalField]:
        """The merged-form fields the given matters need (data minimisation), in catalogue order."""
        wanted = set(matters)
        return [f for f in self.fields.values() if f.needed_by == "all" or wanted & set(f.needed_by)]

    def translation(self, from_set: str, to_set: str) -> dict[str, str]:
        for translation in self.codesets.translations:
            if translation.from_ == from_set and translation.to == to_set:
                return translation.map
        raise KeyError(f"no translation from {from_set} to {to_set}")


def packaged_catalogue_dir() -> Path:
    return Path(str(resources.files("prefill.catalog") / "data"))


def available_themes(root: Path | None = None) -> list[str]:
    base = root or packaged_catalogue_dir()
    return sorted(p.name for p in base.iterdir() if (p / "theme.yaml").is_file())


def _read_yaml(directory: Path, name: str) -> Any:
    path = directory / name
    label = f"{directory.name}/{name}"
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise CatalogueError(label, None, "file is missing") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(label, None, f"not valid YAML: {exc}") from None


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors()
    )


def _parse_one(model: type[Model], data: Any, label: str, entry: str | None) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CatalogueError(label, entry, _describe(exc)) from None


def _parse_list(model: type[Model], data: Any, label: str) -> dict[str, Model]:
    if not isinstance(data, list):
        raise CatalogueError(label, None, "expected a list of entries")
    parsed: dict[str, Model] = {}
    for index, item in enumerate(data):
        code = item.get("code") if isinstance(item, dict) else None
        entry = str(code) if code is not None else f"#{index + 1}"
        value = _parse_one(model, item, label, entry)
        if entry in parsed:
            raise CatalogueError(label, entry, "duplicate code")
        parsed[entry] = value
    return parsed


def load_catalogue(theme: str, root: Path | None = None) -> Catalogue:
    """Read and check the catalogue of ``theme`` under ``root`` (the packaged data by default)."""
    directory = (root or packaged_catalogue_dir()) / theme
    label: Callable[[str], str] = lambda name: f"{directory.name}/{name}"  # noqa: E731
    catalogue = Catalogue(
        theme=_parse_one(Theme, _read_yaml(directory, "theme.yaml"), label("theme.yaml"), None),
        departments=_parse_list(
            Department, _read_yaml(directory, "departments.yaml"), label("departments.yaml")
        ),
        matters=_parse_list(Matter, _read_yaml(directory, "matters.yaml"), label("matters.yaml")),
        outputs=_parse_list(Output, _read_yaml(directory, "outputs.yaml"), label("outputs.yaml")),
        materials=_parse_list(Material, _read_yaml(directory, "materials.yaml"), label("materials.yaml")),
        fields=_parse_list(CanonicalField, _read_yaml(directory, "fields.yaml"), label("fields.yaml")),
        forms=_parse_one(Forms, _read_yaml(directory, "forms.yaml"), label("forms.yaml"), None),
        codesets=_parse_one(CodeSets, _read_yaml(directory, "codesets.yaml"), label("codesets.yaml"), None),
        certificate_types=_parse_list(
            CertificateType, _read_yaml(directory, "certificates.yaml"), label("certificates.yaml")
        ),
        field_reductions=_parse_one(
            FieldReductions,
            _read_yaml(directory, "field_reductions.yaml"),
            label("field_reductions.yaml"),
            None,
        ),
    )
    if catalogue.theme.code != theme:
        raise CatalogueError(
            label("theme.yaml"), None, f"code {catalogue.theme.code!r} is not the directory name"
        )
    sources = {s: d.code for d in catalogue.departments.values() for s in d.sources}
    object.__setattr__(catalogue, "source_departments", sources)
    _check_references(catalogue, label)
    return catalogue


def _check_references(c: Catalogue, label: Callable[[str], str]) -> None:
    def require(ok: bool, file: str, entry: str | None, problem: str) -> None:
        if not ok:
            raise CatalogueError(label(file), entry, problem)

    for m in c.matters.values():
        require(m.department in c.departments, "matters.yaml", m.code, f"unknown department {m.department!r}")
        for dep in m.depends_on:
            require(dep in c.matters, "matters.yaml", m.code, f"depends on unknown matter {dep!r}")
        for out in m.outputs:
            require(out in c.outputs, "matters.yaml", m.code, f"unknown output {out!r}")
    cycle = _find_cycle({m.code: m.depends_on for m in c.matters.values()})
    require(cycle is None, "matters.yaml", cycle, "matter dependencies form a cycle")

    original_forms = c.original_forms
    for mat in c.materials.values():
        for matter in mat.required_by:
            require(matter in c.matters, "materials.yaml", mat.code, f"required by unknown matter {matter!r}")
        red = mat.reduction
        if red.form is not None:
            require(red.form in original_forms, "materials.yaml", mat.code, f"unknown form {red.form!r}")
        if red.duplicate_of is not None:
            original = c.materials.get(red.duplicate_of)
            require(
                original is not None, "materials.yaml", mat.code, f"duplicate of unknown {red.duplicate_of!r}"
            )
            require(
                original is not None and original.reduction.method is None,
                "materials.yaml",
                mat.code,
                "is a duplicate of a material that is itself reduced",
            )
        for waiver in mat.waivable_by:
            require(red.method is None, "materials.yaml", mat.code, "a reduced material needs no waiver")
            if waiver.certificate is not None:
                require(
                    waiver.certificate in c.certificate_types,
                    "materials.yaml",
                    mat.code,
                    f"unknown certificate type {waiver.certificate!r}",
                )
            if waiver.shared_record is not None:
                require(
                    waiver.shared_record in c.source_departments,
                    "materials.yaml",
                    mat.code,
                    f"unknown source {waiver.shared_record!r}",
                )
                for code in waiver.fields:
                    f = c.fields.get(code)
                    require(
                        f is not None and f.provided_by == waiver.shared_record,
                        "materials.yaml",
                        mat.code,
                        f"field {code!r} is not provided by {waiver.shared_record!r}",
                    )
    replaced = [m.reduction.form for m in c.materials.values() if m.reduction.form]
    for form_code in original_forms:
        require(
            replaced.count(form_code) == 1,
            "forms.yaml",
            form_code,
            "must be replaced by exactly one material",
        )

    for cert in c.certificate_types.values():
        require(
            cert.issuer_department in c.departments,
            "certificates.yaml",
            cert.code,
            f"unknown department {cert.issuer_department!r}",
        )

    for f in c.fields.values():
        if f.codeset is not None:
            require(
                f.codeset in c.codesets.codesets, "fields.yaml", f.code, f"unknown code set {f.codeset!r}"
            )
        if f.needed_by != "all":
            for matter in f.needed_by:
                require(matter in c.matters, "fields.yaml", f.code, f"needed by unknown matter {matter!r}")
        if f.provided_by not in (None, ASSERTION):
            require(
                f.provided_by in c.source_departments,
                "fields.yaml",
                f.code,
                f"provided by unknown source {f.provided_by!r}",
            )

    for form in c.forms.original:
        require(
            form.department in c.departments,
            "forms.yaml",
            form.code,
            f"unknown department {form.department!r}",
        )
        for matter in form.matters:
            require(matter in c.matters, "forms.yaml", form.code, f"unknown matter {matter!r}")
        for ff in form.fields:
            canonical = c.fields.get(ff.field)
            require(
                canonical is not None,
                "forms.yaml",
                form.code,
                f"field {ff.name!r}: unknown field {ff.field!r}",
            )
            if ff.codeset is not None and canonical is not None:
                require(
                    ff.codeset in c.codesets.codesets,
                    "forms.yaml",
                    form.code,
                    f"field {ff.name!r}: unknown code set {ff.codeset!r}",
                )
                pair = (canonical.codeset, ff.codeset)
                require(
                    any((t.from_, t.to) == pair for t in c.codesets.translations),
                    "forms.yaml",
                    form.code,
                    f"field {ff.name!r}: no translation from {canonical.codeset} to {ff.codeset}",
                )
    require(
        c.forms.merged.code == c.theme.merged_form,
        "forms.yaml",
        c.forms.merged.code,
        "is not the theme's merged form",
    )

    for name, codeset in c.codesets.codesets.items():
        if codeset.pattern:
            pattern = re.compile(codeset.pattern)
            for code in codeset.codes:
                require(
                    bool(pattern.fullmatch(code)),
                    "codesets.yaml",
                    name,
                    f"code {code!r} does not match its pattern",
                )
    for t in c.codesets.translations:
        source, target = c.codesets.codesets.get(t.from_), c.codesets.codesets.get(t.to)
        require(
            source is not None and target is not None,
            "codesets.yaml",
            f"{t.from_}->{t.to}",
            "unknown code set",
        )
        assert source is not None and target is not None
        require(
            set(t.map) == set(source.codes), "codesets.yaml", f"{t.from_}->{t.to}", "does not map every code"
        )
        unknown = sorted(set(t.map.values()) - set(target.codes))
        require(not unknown, "codesets.yaml", f"{t.from_}->{t.to}", f"maps to unknown codes {unknown}")

    reductions = c.field_reductions
    for table in ("deduplicated_by_sharing", "non_required", "prefilled_from_sharing"):
        for entry in getattr(reductions, table):
            require(
                entry.field is None or entry.field in c.fields,
                "field_reductions.yaml",
                entry.name,
                f"{table}: unknown field {entry.field!r}",
            )
    for entry in reductions.non_required:
        if entry.field is not None:
            require(
                not c.fields[entry.field].required,
                "fields.yaml",
                entry.field,
                "the plan makes it non-required (field_reductions.yaml) but it is required",
            )
    for entry in reductions.prefilled_from_sharing:
        if entry.field is not None:
            require(
                c.fields[entry.field].provided_by is not None,
                "fields.yaml",
                entry.field,
                "the plan prefills it from shared data but no source provides it",
            )


def _find_cycle(graph: dict[str, list[str]]) -> str | None:
    """A node on a dependency cycle, or None."""
    state: dict[str, int] = {}

    def visit(node: str) -> str | None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return nxt
            if state.get(nxt) is None and (found := visit(nxt)):
                return found
        state[node] = 2
        return None

    for node in graph:
        if state.get(node) is None and (found := visit(node)):
            return found
    return None
