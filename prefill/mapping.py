"""The field-mapping layer: fills the merged form and decides each material. Pure functions.

Inputs are what the connectors and certificate checks returned; nothing here does I/O, reads the
clock or settings. Table-driven tests in tests/prefill/test_mapping.py pin the decisions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from connectors.base import Outcome, SourceResult
from prefill.catalog.loader import ASSERTION, Catalogue
from prefill.catalog.schemas import CanonicalField, CodeSet, Material, ReductionMethod

IDENTITY_PLATFORM = "identity_platform"
IDENTITY_DEPARTMENT = "data_bureau"
ID_TYPE_RESIDENT_CARD = "111"
IDENTITY_SOURCE = "psb_identity"  # whose "not found" means nobody knows this person


class FieldStatus(StrEnum):
    verified = "verified"  # read from a source (or the signed assertion): locked
    to_fill = "to_fill"  # the applicant fills it
    unavailable = "unavailable"  # a source should have it but could not answer: the applicant fills it


class MaterialStatus(StrEnum):
    replaced_by_form = "replaced_by_form"
    not_necessary = "not_necessary"
    deduplicated = "deduplicated"
    waived = "waived"
    required = "required"


# Source outcomes that are failures of sharing (as opposed to "the source has no record").
_FAILED = {Outcome.UNAVAILABLE, Outcome.TIMEOUT, Outcome.REJECTED, Outcome.MAINTENANCE}


@dataclass(frozen=True)
class CertificateEvidence:
    """The result of looking up and verifying one certificate type for the applicant."""

    certificate_type: str
    verified: bool
    reason_code: str  # verified, not_found, revoked, expired, bad_signature, unavailable, ...
    reason: str
    identifier: str | None = None
    lookup_failed: bool = False  # the library could not be asked: a sharing failure, not a finding


@dataclass(frozen=True)
class FieldOption:
    code: str
    label: str


@dataclass(frozen=True)
class FilledField:
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
    options: list[FieldOption] | None = None


@dataclass(frozen=True)
class MaterialDecision:
    code: str
    name: str
    status: MaterialStatus
    method: str | None
    reason: str
    notice: str | None = None
    evidence: dict[str, str] | None = None


@dataclass(frozen=True)
class Notice:
    code: str
    message: str
    source: str | None = None
    department: str | None = None
    fields: list[str] = field(default_factory=list)
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Summary:
    materials_before: int
    materials_required: int
    fields_total: int
    fields_prefilled: int
    fields_to_fill: int


@dataclass(frozen=True)
class PrefillOutcome:
    fields: list[FilledField]
    materials: list[MaterialDecision]
    summary: Summary
    notices: list[Notice]

    @property
    def locked_values(self) -> dict[str, str]:
        return {f.code: f.value for f in self.fields if f.locked and f.value is not None}


# Code set (by identity) -> its options, built once: ~30 fields a prefill carry them, and rebuilding them
# every time was ~0.1 ms of a prefill's CPU. Code sets are frozen models that the catalogue loader makes
# once; the registry overlay makes new catalogues but refers to the same code sets. The entry keeps its
# code set alive, so an id is never reused while it is cached.
_OPTIONS: dict[int, tuple[CodeSet, list[FieldOption]]] = {}
_OPTIONS_MAX = 4096


def options_for(catalogue: Catalogue, spec: CanonicalField) -> list[FieldOption] | None:
    """The field's code options; the same (read-only) list for every prefill."""
    if spec.codeset is None:
        return None
    codeset = catalogue.codesets.codesets[spec.codeset]
    cached = _OPTIONS.get(id(codeset))
    if cached is None or cached[0] is not codeset:
        if len(_OPTIONS) >= _OPTIONS_MAX:
            _OPTIONS.clear()
        cached = (codeset, [FieldOption(code=code, label=label) for code, label in codeset.codes.items()])
        _OPTIONS[id(codeset)] = cached
    return cached[1]


def in_codeset(catalogue: Catalogue, spec: CanonicalField, value: str) -> bool:
    """Whether ``value`` is a code of the field's code set (any value for uncoded fields)."""
    if spec.codeset is None:
        return True
    codeset = catalogue.codesets.codesets[spec.codeset]
    if value in codeset.codes:
        return True
    return codeset.open and codeset.pattern is not None and re.fullmatch(codeset.pattern, value) is not None


def materials_for(catalogue: Catalogue, matters: Iterable[str]) -> list[Material]:
    wanted = set(matters)
    return [m for m in catalogue.materials.values() if wanted & set(m.required_by)]


def source_notice(catalogue: Catalogue, result: SourceResult, fields: list[str]) -> Notice:
    department = catalogue.departments.get(result.department)
    name = department.name if department else result.department
    what = {
        Outcome.UNAVAILABLE: "暂不可用",
        Outcome.TIMEOUT: "响应超时",
        Outcome.REJECTED: "拒绝了查询",
        Outcome.MAINTENANCE: "正在维护",
    }.get(result.outcome, "未能返回数据")
    return Notice(
        code=f"source_{result.outcome.value}",
        source=result.source,
        department=result.department,
        fields=fields,
        retry_at=result.retry_at,
        message=(
            f"{name}共享数据{what}：相关字段需申请人填写，提交后由窗口工作人员核实；"
            "如因数据共享未实现需补交纸质材料，窗口工作人员应及时告知申请人。"
        ),
    )


def _filled(
    catalogue: Catalogue,
    spec: CanonicalField,
    *,
    value: str | None,
    status: FieldStatus,
    reason: str,
    source: str | None = None,
    department: str | None = None,
    fetched_at: datetime | None = None,
) -> FilledField:
    return FilledField(
        code=spec.code,
        label=spec.label,
        value=value,
        status=status,
        locked=status is FieldStatus.verified,
        source=source,
        department=department,
        fetched_at=fetched_at,
        reason=reason,
        required=spec.required,
        type=spec.type,
        options=options_for(catalogue, spec),
    )


def fill_fields(
    catalogue: Catalogue,
    matters: Iterable[str],
    results: Mapping[str, SourceResult],
    subject_id_number: str,
) -> tuple[list[FilledField], list[Notice]]:
    """Every field the matters need, filled from the source results where verified."""
    filled: list[FilledField] = []
    affected: dict[str, list[str]] = {}
    for spec in catalogue.fields_for(matters):
        if spec.provided_by == ASSERTION:
            # The identity platform signed the subject: verified without asking a department.
            filled.append(
                _filled(
                    catalogue,
                    spec,
                    value=subject_id_number if spec.code == "id_number" else ID_TYPE_RESIDENT_CARD,
                    status=FieldStatus.verified,
                    reason="from_applicant_assertion",
                    source=IDENTITY_PLATFORM,
                    department=IDENTITY_DEPARTMENT,
                )
            )
            continue
        result = results.get(spec.provided_by) if spec.provided_by else None
        if result is None:
            filled.append(
                _filled(catalogue, spec, value=None, status=FieldStatus.to_fill, reason="applicant_fills")
            )
            continue
        found = result.values.get(spec.code)
        value: str | None = None
        if (
            result.outcome is Outcome.OK
            and found is not None
            and not in_codeset(catalogue, spec, found.value)
        ):
            # A code the form cannot hold is not locked in: the applicant chooses from the options.
            status, reason = FieldStatus.to_fill, "source_value_not_in_codeset"
        elif result.outcome is Outcome.OK and found is not None:
            status, reason, value = FieldStatus.verified, "verified_by_source", found.value
        elif result.outcome in _FAILED:
            status, reason = FieldStatus.unavailable, f"source_{result.outcome.value}"
            affected.setdefault(result.source, []).append(spec.code)
        elif result.outcome is Outcome.NOT_FOUND:
            status, reason = FieldStatus.to_fill, "no_record_at_source"
        else:
            status, reason = FieldStatus.to_fill, "no_value_at_source"
        filled.append(
            _filled(
                catalogue,
                spec,
                value=value,
                status=status,
                reason=reason,
                source=result.source,
                department=result.department,
                fetched_at=found.provenance.fetched_at if found else result.fetched_at,
            )
        )
    notices = [source_notice(catalogue, results[source], codes) for source, codes in affected.items()]
    identity = results.get(IDENTITY_SOURCE)
    if identity is not None and identity.outcome is Outcome.NOT_FOUND:
        notices.insert(
            0,
            Notice(
                code="subject_unknown",
                source=identity.source,
                department=identity.department,
                message=(
                    "公安人口信息库未查到该身份：未预填任何个人信息。请核对身份，"
                    "或请申请人携带身份证件到窗口办理。"
                ),
            ),
        )
    return filled, notices


def _required_notice(material: Material, why: str) -> str:
    return (
        f"因数据共享未实现，需申请人提交纸质材料《{material.name}》（{why}）。窗口工作人员应及时告知申请人。"
    )


def decide_material(
    catalogue: Catalogue,
    material: Material,
    results: Mapping[str, SourceResult],
    certificates: Mapping[str, CertificateEvidence],
) -> MaterialDecision:
    """One material's decision: reduced by the plan, waived by verified evidence, or required."""

    def decision(status: MaterialStatus, method: str | None, reason: str, **extra: Any) -> MaterialDecision:
        return MaterialDecision(
            code=material.code, name=material.name, status=status, method=method, reason=reason, **extra
        )

    method = material.reduction.method
    if method is ReductionMethod.electronic_form:
        merged = catalogue.forms.merged.name
        return decision(
            MaterialStatus.replaced_by_form,
            method.value,
            f"由《{merged}》电子表单替代",
            evidence={"form": material.reduction.form or ""},
        )
    if method is ReductionMethod.not_necessary:
        return decision(MaterialStatus.not_necessary, method.value, "非必要材料，无需提交")
    if method is ReductionMethod.deduplicated:
        original = catalogue.materials[material.reduction.duplicate_of or ""]
        return decision(
            MaterialStatus.deduplicated,
            method.value,
            f"与《{original.name}》重复，去重",
            evidence={"duplicate_of": original.code},
        )

    failures: list[str] = []  # why evidence could not be had because sharing failed
    findings: list[str] = []  # why evidence that was had does not prove the material
    for waiver in material.waivable_by:
        if waiver.certificate is not None:
            evidence = certificates.get(waiver.certificate)
            if evidence is None:
                continue
            if evidence.verified:
                return decision(
                    MaterialStatus.waived,
                    "certificate",
                    evidence.reason,
                    evidence={
                        "certificate_type": evidence.certificate_type,
                        "identifier": evidence.identifier or "",
                    },
                )
            (failures if evidence.lookup_failed else findings).append(evidence.reason)
        else:
            result = results.get(waiver.shared_record or "")
            if result is None:
                continue
            verified = result.outcome is Outcome.OK and all(code in result.values for code in waiver.fields)
            if verified:
                return decision(
                    MaterialStatus.waived,
                    "shared_record",
                    "共享数据核验通过",
                    evidence={"source": result.source, "fields": ",".join(waiver.fields)},
                )
            if result.outcome in _FAILED:
                failures.append(f"共享数据源{result.outcome.value}")
            else:
                findings.append("共享数据无相应记录")
    why = "；".join(findings + failures)
    notice = _required_notice(material, why) if (failures or findings) else None
    return decision(MaterialStatus.required, None, why or "需申请人提交", notice=notice)


def build_prefill(
    catalogue: Catalogue,
    matters: list[str],
    results: Mapping[str, SourceResult],
    certificates: Mapping[str, CertificateEvidence],
    subject_id_number: str,
) -> PrefillOutcome:
    fields, notices = fill_fields(catalogue, matters, results, subject_id_number)
    materials = [
        decide_material(catalogue, m, results, certificates) for m in materials_for(catalogue, matters)
    ]
    for decision in materials:
        if decision.notice:
            notices.append(Notice(code="material_required", message=decision.notice))
    prefilled = sum(1 for f in fields if f.status is FieldStatus.verified)
    summary = Summary(
        materials_before=len(materials),
        materials_required=sum(1 for d in materials if d.status is MaterialStatus.required),
        fields_total=len(fields),
        fields_prefilled=prefilled,
        fields_to_fill=len(fields) - prefilled,
    )
    return PrefillOutcome(fields=fields, materials=materials, summary=summary, notices=notices)
