"""Registry operations: register, edit, approve, activate and deprecate fields; map them into the merged
form; add material waivers. Every change is one transaction that writes the new state, a history row
and an admin event, so the three never disagree. Optimistic concurrency: the UPDATE of a field is
``WHERE version = :expected``; zero rows means someone else changed it first (409 version_conflict).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from connectors.config import SourceConfig
from prefill.auth.policy import Principal
from prefill.auth.service import Role
from prefill.catalog.loader import Catalogue
from prefill.catalog.service import CatalogueStore
from prefill.registry import errors
from prefill.registry.models import (
    RegistryAdminEventRow,
    RegistryFieldRow,
    RegistryFieldVersionRow,
    RegistryMappingRuleRow,
    RegistryWaiverRuleRow,
)
from prefill.registry.overlay import (
    MappingRule,
    RegisteredField,
    RegistrySnapshot,
    WaiverRule,
    effective_catalogue,
    has_translation,
    waiver_problem,
)
from prefill.registry.schemas import (
    AdminEventList,
    AdminEventOut,
    FieldHistory,
    FieldOut,
    FieldRegistration,
    FieldSpec,
    FieldState,
    FieldVersionOut,
    MappingRuleCreate,
    MappingRuleOut,
    RuleList,
    RuleState,
    WaiverRuleCreate,
    WaiverRuleOut,
)

__all__ = ["RESPONSE_PATH", "RegistryService"]

log = logging.getLogger(__name__)

# Dotted path into the answer's data object: identifiers separated by single dots, no empty segment.
RESPONSE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,9}$")
_CODED_TYPES = ("code", "region")
_SPEC_COLUMNS = tuple(FieldSpec.model_fields)

# state → the states each action may move it to.
_APPROVE = {FieldState.draft: FieldState.approved}
_ACTIVATE = {FieldState.approved: FieldState.active}
_DEPRECATE = {s: FieldState.deprecated for s in (FieldState.draft, FieldState.approved, FieldState.active)}
# Any change needs a fresh approval: an edited approved or active field goes back to draft (and an
# active one stops being served until it is approved and activated again).
_UPDATE = {s: FieldState.draft for s in (FieldState.draft, FieldState.approved, FieldState.active)}


def _columns(row: Any, model: type[BaseModel], **renamed: str) -> dict[str, Any]:
    # getattr, not model_dump: it reloads attributes a commit expired.
    return {name: getattr(row, renamed.get(name, name)) for name in model.model_fields}


def _field_out(row: RegistryFieldRow) -> FieldOut:
    return FieldOut.model_validate(_columns(row, FieldOut))


def _snapshot(row: RegistryFieldRow) -> dict[str, Any]:
    return {
        "department": row.department,
        **{name: getattr(row, name) for name in _SPEC_COLUMNS},
    }


def _mapping_out(row: RegistryMappingRuleRow) -> MappingRuleOut:
    return MappingRuleOut.model_validate(_columns(row, MappingRuleOut, field="field_code"))


def _waiver_out(row: RegistryWaiverRuleRow) -> WaiverRuleOut:
    return WaiverRuleOut.model_validate(_columns(row, WaiverRuleOut))


class RegistryService:
    def __init__(
        self,
        engine: Engine,
        catalogues: CatalogueStore,
        source_configs: Mapping[str, SourceConfig],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._catalogues = catalogues
        self._configs = source_configs
        self._listeners: list[Callable[[], None]] = []
        self._now = now

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every committed change (the effective view invalidates itself)."""
        self._listeners.append(listener)

    def _on_change(self) -> None:
        for listener in self._listeners:
            listener()

    # ---- reads ---------------------------------------------------------------------------------

    def list_fields(self, state: FieldState | None = FieldState.active) -> list[FieldOut]:
        with Session(self._engine) as session:
            query = select(RegistryFieldRow).order_by(col(RegistryFieldRow.code))
            if state is not None:
                query = query.where(RegistryFieldRow.state == state.value)
            return [_field_out(row) for row in session.exec(query)]

    def get_field(self, code: str) -> FieldOut:
        with Session(self._engine) as session:
            return _field_out(self._row(session, code))

    def history(self, code: str) -> FieldHistory:
        with Session(self._engine) as session:
            self._row(session, code)
            rows = session.exec(
                select(RegistryFieldVersionRow)
                .where(RegistryFieldVersionRow.code == code)
                .order_by(col(RegistryFieldVersionRow.version))
            )
            versions = [FieldVersionOut.model_validate(_columns(r, FieldVersionOut)) for r in rows]
        return FieldHistory(code=code, versions=versions)

    def rules(self, include_retired: bool = False) -> RuleList:
        with Session(self._engine) as session:
            mappings = select(RegistryMappingRuleRow).order_by(col(RegistryMappingRuleRow.created_at))
            waivers = select(RegistryWaiverRuleRow).order_by(col(RegistryWaiverRuleRow.created_at))
            if not include_retired:
                mappings = mappings.where(RegistryMappingRuleRow.state == RuleState.active.value)
                waivers = waivers.where(RegistryWaiverRuleRow.state == RuleState.active.value)
            return RuleList(
                mappings=[_mapping_out(r) for r in session.exec(mappings)],
                waivers=[_waiver_out(r) for r in session.exec(waivers)],
            )

    def events(self, *, after: int = 0, limit: int = 100) -> AdminEventList:
        with Session(self._engine) as session:
            rows = session.exec(
                select(RegistryAdminEventRow)
                .where(col(RegistryAdminEventRow.id) > after)
                .order_by(col(RegistryAdminEventRow.id))
                .limit(limit)
            )
            return AdminEventList(
                items=[AdminEventOut.model_validate(_columns(r, AdminEventOut)) for r in rows]
            )

    def generation(self) -> int:
        """The registry's generation: it moves on every change (the latest admin event's id)."""
        with Session(self._engine) as session:
            return int(session.exec(select(func.max(RegistryAdminEventRow.id))).one() or 0)

    def snapshot(self) -> RegistrySnapshot:
        """The active fields and rules, and the generation they are current at."""
        with Session(self._engine) as session:
            generation = int(session.exec(select(func.max(RegistryAdminEventRow.id))).one() or 0)
            fields = session.exec(
                select(RegistryFieldRow).where(RegistryFieldRow.state == FieldState.active.value)
            )
            mappings = session.exec(
                select(RegistryMappingRuleRow)
                .where(RegistryMappingRuleRow.state == RuleState.active.value)
                .order_by(col(RegistryMappingRuleRow.created_at))
            )
            waivers = session.exec(
                select(RegistryWaiverRuleRow)
                .where(RegistryWaiverRuleRow.state == RuleState.active.value)
                .order_by(col(RegistryWaiverRuleRow.created_at))
            )
            return RegistrySnapshot(
                generation=generation,
                fields={f.code: _registered(f) for f in fields},
                mappings=tuple(
                    MappingRule(
                        theme=m.theme,
                        field=m.field_code,
                        merged_field=m.merged_field,
                        original_form=m.original_form,
                        original_field=m.original_field,
                        original_codeset=m.original_codeset,
                    )
                    for m in mappings
                ),
                waivers=tuple(
                    WaiverRule(
                        theme=w.theme,
                        material=w.material,
                        certificate=w.certificate,
                        source=w.source,
                        fields=tuple(w.fields),
                    )
                    for w in waivers
                ),
            )

    # ---- fields ----------------------------------------------------------------------------------

    def register(self, principal: Principal, body: FieldRegistration) -> FieldOut:
        """A department registers a field of its own source: a draft, version 1."""
        if principal.role is not Role.department or not principal.department:
            raise errors.DepartmentRoleRequiredError(
                "fields are registered by the department that provides them"
            )
        self._check_spec(body, principal.department)
        self._check_code_free(body.code)
        now = self._now()
        row = RegistryFieldRow(
            code=body.code,
            department=principal.department,
            **body.model_dump(exclude={"code"}),
            state=FieldState.draft.value,
            version=1,
            created_at=now,
            created_by=principal.client_id,
            updated_at=now,
            updated_by=principal.client_id,
        )
        with Session(self._engine) as session:
            if session.get(RegistryFieldRow, body.code) is not None:
                raise errors.DuplicateCodeError(f"field {body.code} is already registered")
            session.add(row)
            try:
                session.flush()  # the primary key settles a concurrent registration of the same code
            except IntegrityError:
                raise errors.DuplicateCodeError(f"field {body.code} is already registered") from None
            self._record(session, principal, row, "registered", None)
            session.commit()
            out = _field_out(row)
        self._on_change()
        log.info("registry field registered", extra={"field": body.code, "client_id": principal.client_id})
        return out

    def update(self, principal: Principal, code: str, body: FieldSpec, expected: int | None) -> FieldOut:
        """A new version of the field's statement; it goes back to draft for a fresh approval."""
        if expected is None:
            raise errors.VersionRequiredError("send If-Match with the version you changed, or `version`")
        current = self.get_field(code)
        self._check_owner(principal, current.department, code)
        self._check_spec(body, current.department)
        if body.theme != current.theme:
            raise errors.InvalidTransitionError("a field's theme cannot change; register a new field")
        self._check_mappings_still_fit(code, body)
        changes = body.model_dump(include=set(_SPEC_COLUMNS))
        return self._transition(principal, code, expected, _UPDATE, "updated", changes)

    def approve(self, principal: Principal, code: str, expected: int | None) -> FieldOut:
        if principal.role is not Role.admin:
            raise errors.NotOwnerError("only an administrator approves fields")
        return self._transition(principal, code, expected, _APPROVE, "approved")

    def activate(self, principal: Principal, code: str, expected: int | None) -> FieldOut:
        """Approved → active: by the owning department (it knows when its source answers) or an admin."""
        return self._transition(principal, code, expected, _ACTIVATE, "activated", owner_only=True)

    def deprecate(self, principal: Principal, code: str, expected: int | None) -> FieldOut:
        return self._transition(principal, code, expected, _DEPRECATE, "deprecated", owner_only=True)

    # ---- rules -----------------------------------------------------------------------------------

    def create_mapping(self, principal: Principal, body: MappingRuleCreate) -> MappingRuleOut:
        field = self._existing_field(body.field)
        catalogue = self._catalogues.get(field.theme)
        merged = catalogue.fields.get(body.merged_field)
        if merged is None:
            raise errors.UnknownMergedFieldError(
                f"the merged form of {field.theme} has no field {body.merged_field}", field="merged_field"
            )
        if merged.provided_by is not None:
            raise errors.MergedFieldProvidedError(
                f"{body.merged_field} is already provided by {merged.provided_by}", field="merged_field"
            )
        if field.source not in catalogue.source_departments:
            raise errors.UnknownSourceError(
                f"theme {field.theme} reads no source {field.source}", field="field"
            )
        if field.type != merged.type:
            raise errors.TypeMismatchError(
                f"field {field.code} is {field.type}, {merged.code} is {merged.type}", field="merged_field"
            )
        if field.codeset != merged.codeset and not (
            field.codeset and merged.codeset and has_translation(catalogue, field.codeset, merged.codeset)
        ):
            raise errors.CodesetMismatchError(
                f"field {field.code} has code set {field.codeset}, {merged.code} has {merged.codeset}, "
                "and no translation exists",
                field="merged_field",
            )
        if body.original_form is not None:
            if body.original_form not in catalogue.original_forms:
                raise errors.UnknownOriginalFormError(
                    f"no original form {body.original_form}", field="original_form"
                )
            if body.original_codeset is not None:
                self._check_codeset(catalogue, body.original_codeset, "original_codeset")
                if merged.codeset is None or not has_translation(
                    catalogue, merged.codeset, body.original_codeset
                ):
                    raise errors.CodesetMismatchError(
                        f"no translation from {merged.codeset} to {body.original_codeset}",
                        field="original_codeset",
                    )
        row = RegistryMappingRuleRow(
            id=uuid.uuid4().hex,
            theme=field.theme,
            field_code=field.code,
            merged_field=body.merged_field,
            original_form=body.original_form,
            original_field=body.original_field,
            original_codeset=body.original_codeset,
            state=RuleState.active.value,
            active_key=f"{field.theme}:{body.merged_field}",
            created_at=self._now(),
            created_by=principal.client_id,
        )
        with Session(self._engine) as session:
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise errors.MappingExistsError(
                    f"{body.merged_field} is already filled by an active mapping rule", field="merged_field"
                ) from None
            self._event(session, principal, "mapping.created", "mapping", row.id, None, None, row.state)
            session.commit()
            out = _mapping_out(row)
        self._on_change()
        return out

    def retire_mapping(self, principal: Principal, rule_id: str) -> MappingRuleOut:
        with Session(self._engine) as session:
            row = session.get(RegistryMappingRuleRow, rule_id)
            if row is None:
                raise errors.RuleNotFoundError(f"no mapping rule {rule_id}")
            self._retire(session, principal, row, "mapping")
            out = _mapping_out(row)
        self._on_change()
        return out

    def create_waiver(self, principal: Principal, body: WaiverRuleCreate) -> WaiverRuleOut:
        catalogue = self._catalogues.get(body.theme)
        material = catalogue.materials.get(body.material)
        if material is None:
            raise errors.UnknownMaterialError(
                f"theme {body.theme} has no material {body.material}", field="material"
            )
        if body.certificate is not None and body.certificate not in catalogue.certificate_types:
            raise errors.UnknownCertificateTypeError(
                f"no certificate type {body.certificate}", field="certificate"
            )
        if body.source is not None and body.source not in catalogue.source_departments:
            raise errors.UnknownSourceError(
                f"theme {body.theme} reads no source {body.source}", field="source"
            )
        rule = WaiverRule(
            theme=body.theme,
            material=body.material,
            certificate=body.certificate,
            source=body.source,
            fields=tuple(body.fields),
        )
        # Fields count as provided when an active registry mapping provides them now.
        effective = effective_catalogue(catalogue, self._configs, self.snapshot())
        problem = waiver_problem(effective, rule)
        if problem is not None:
            raise errors.WaiverNotApplicableError(problem, field="fields" if body.source else "material")
        row = RegistryWaiverRuleRow(
            id=uuid.uuid4().hex,
            **body.model_dump(),
            state=RuleState.active.value,
            created_at=self._now(),
            created_by=principal.client_id,
        )
        with Session(self._engine) as session:
            session.add(row)
            self._event(session, principal, "waiver.created", "waiver", row.id, None, None, row.state)
            session.commit()
            out = _waiver_out(row)
        self._on_change()
        return out

    def retire_waiver(self, principal: Principal, rule_id: str) -> WaiverRuleOut:
        with Session(self._engine) as session:
            row = session.get(RegistryWaiverRuleRow, rule_id)
            if row is None:
                raise errors.RuleNotFoundError(f"no waiver rule {rule_id}")
            self._retire(session, principal, row, "waiver")
            out = _waiver_out(row)
        self._on_change()
        return out

    # ---- internals -------------------------------------------------------------------------------

    def _row(self, session: Session, code: str) -> RegistryFieldRow:
        row = session.get(RegistryFieldRow, code)
        if row is None:
            raise errors.FieldNotFoundError(f"no registry field {code}")
        return row

    def _existing_field(self, code: str) -> FieldOut:
        with Session(self._engine) as session:
            row = session.get(RegistryFieldRow, code)
            if row is None:
                raise errors.UnknownFieldError(f"no registry field {code}", field="field")
            if row.state == FieldState.deprecated.value:
                raise errors.InvalidTransitionError(f"field {code} is deprecated")
            return _field_out(row)

    @staticmethod
    def _check_owner(principal: Principal, department: str, code: str) -> None:
        if not principal.acts_for_department(department):
            raise errors.NotOwnerError(f"field {code} belongs to department {department}")

    @staticmethod
    def _check_codeset(catalogue: Catalogue, codeset: str, where: str) -> None:
        if codeset not in catalogue.codesets.codesets:
            raise errors.UnknownCodesetError(
                f"catalogue {catalogue.theme.code} has no code set {codeset}", field=where
            )

    def _check_spec(self, spec: FieldSpec, department: str) -> None:
        catalogue = self._catalogues.get(spec.theme)
        config = self._configs.get(spec.source)
        if config is None:
            raise errors.UnknownSourceError(f"no source {spec.source} is configured", field="source")
        if config.department != department:
            raise errors.SourceOfOtherDepartmentError(
                f"source {spec.source} belongs to department {config.department}", field="source"
            )
        if not RESPONSE_PATH.match(spec.response_path):
            raise errors.InvalidResponsePathError(
                "the response path is identifiers joined by single dots (e.g. person.contact.mobile)",
                field="response_path",
            )
        if spec.codeset is not None:
            self._check_codeset(catalogue, spec.codeset, "codeset")
        elif spec.type in _CODED_TYPES:
            raise errors.UnknownCodesetError(
                f"a field of type {spec.type} names its code set", field="codeset"
            )

    def _check_code_free(self, code: str) -> None:
        for theme in self._catalogues.themes:
            if code in self._catalogues.get(theme).fields:
                raise errors.DuplicateCodeError(f"{code} is a field of the {theme} catalogue", field="code")
        for source_id, config in self._configs.items():
            if code in config.fields:
                raise errors.DuplicateCodeError(f"{code} is a configured field of {source_id}", field="code")

    def _check_mappings_still_fit(self, code: str, spec: FieldSpec) -> None:
        catalogue = self._catalogues.get(spec.theme)
        with Session(self._engine) as session:
            rules = session.exec(
                select(RegistryMappingRuleRow).where(
                    RegistryMappingRuleRow.field_code == code,
                    RegistryMappingRuleRow.state == RuleState.active.value,
                )
            ).all()
        for rule in rules:
            merged = catalogue.fields[rule.merged_field]
            if spec.type != merged.type:
                raise errors.TypeMismatchError(
                    f"field {code} fills {merged.code}, which is {merged.type}", field="type"
                )
            if spec.codeset != merged.codeset and not (
                spec.codeset and merged.codeset and has_translation(catalogue, spec.codeset, merged.codeset)
            ):
                raise errors.CodesetMismatchError(
                    f"field {code} fills {merged.code} (code set {merged.codeset}); no translation from "
                    f"{spec.codeset}",
                    field="codeset",
                )

    def _transition(
        self,
        principal: Principal,
        code: str,
        expected: int | None,
        moves: Mapping[FieldState, FieldState],
        change: str,
        values: Mapping[str, Any] | None = None,
        *,
        owner_only: bool = False,
    ) -> FieldOut:
        with Session(self._engine) as session:
            row = self._row(session, code)
            if owner_only or values is not None:
                self._check_owner(principal, row.department, code)
            if expected is not None and row.version != expected:
                raise errors.VersionConflictError(
                    f"field {code} is at version {row.version}, not {expected}", current_version=row.version
                )
            before = FieldState(row.state)
            after = moves.get(before)
            if after is None:
                raise errors.InvalidTransitionError(f"field {code} is {before.value}; it cannot be {change}")
            read_version, now = row.version, self._now()
            result = session.execute(
                update(RegistryFieldRow)
                .where(col(RegistryFieldRow.code) == code, col(RegistryFieldRow.version) == read_version)
                .values(
                    **(values or {}),
                    state=after.value,
                    version=read_version + 1,
                    updated_at=now,
                    updated_by=principal.client_id,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                raise errors.VersionConflictError(f"field {code} was changed concurrently; read it again")
            session.expire_all()
            row = self._row(session, code)
            try:
                self._record(session, principal, row, change, before)
                session.commit()
            except IntegrityError:
                session.rollback()
                raise errors.VersionConflictError(f"field {code} was changed concurrently") from None
            out = _field_out(row)
        self._on_change()
        log.info(
            "registry field changed",
            extra={"field": code, "change": change, "version": out.version, "client_id": principal.client_id},
        )
        return out

    def _record(
        self,
        session: Session,
        principal: Principal,
        row: RegistryFieldRow,
        change: str,
        before: FieldState | None,
    ) -> None:
        session.add(
            RegistryFieldVersionRow(
                code=row.code,
                version=row.version,
                state=row.state,
                change=change,
                snapshot=_snapshot(row),
                changed_at=row.updated_at,
                changed_by=principal.client_id,
            )
        )
        self._event(
            session,
            principal,
            f"field.{change}",
            "field",
            row.code,
            row.version,
            before.value if before else None,
            row.state,
        )

    def _event(
        self,
        session: Session,
        principal: Principal,
        action: str,
        entity: str,
        entity_id: str,
        version: int | None,
        from_state: str | None,
        to_state: str | None,
    ) -> None:
        session.add(
            RegistryAdminEventRow(
                at=self._now(),
                actor=principal.client_id,
                actor_role=principal.role.value,
                actor_department=principal.department,
                action=action,
                entity=entity,
                entity_id=entity_id,
                version=version,
                from_state=from_state,
                to_state=to_state,
            )
        )

    def _retire(
        self,
        session: Session,
        principal: Principal,
        row: RegistryMappingRuleRow | RegistryWaiverRuleRow,
        kind: str,
    ) -> None:
        if row.state != RuleState.active.value:
            raise errors.InvalidTransitionError(f"{kind} rule {row.id} is already retired")
        result = session.execute(
            update(type(row))
            .where(col(type(row).id) == row.id, col(type(row).state) == RuleState.active.value)
            .values(
                state=RuleState.retired.value,
                retired_at=self._now(),
                retired_by=principal.client_id,
                **({"active_key": None} if kind == "mapping" else {}),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            raise errors.InvalidTransitionError(f"{kind} rule {row.id} was retired concurrently")
        self._event(
            session, principal, f"{kind}.retired", kind, row.id, None, RuleState.active.value, "retired"
        )
        session.commit()
        session.refresh(row)


def _registered(row: RegistryFieldRow) -> RegisteredField:
    return RegisteredField(
        code=row.code,
        theme=row.theme,
        department=row.department,
        source=row.source,
        request_name=row.request_name,
        response_path=row.response_path,
        type=row.type,
        codeset=row.codeset,
        transform=row.transform,
    )
