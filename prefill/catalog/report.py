"""The plan's before/after figures, computed from the catalogue data (never hard-coded)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefill.catalog.loader import Catalogue
from prefill.catalog.schemas import Matter, ReductionMethod


@dataclass(frozen=True)
class DaySpan:
    min: int
    max: int


def critical_path(matters: dict[str, Matter]) -> DaySpan:
    """Working days when independent matters run in parallel: the longest dependency chain.

    A matter starts when every matter it depends on has ended, so its finish is its own promised
    limit plus the latest finish among its dependencies; the bundle ends with its latest matter.
    Computed separately for the promised minimum and maximum.
    """

    def finish(code: str, bound: str, memo: dict[str, int]) -> int:
        if code not in memo:
            matter = matters[code]
            before = max((finish(dep, bound, memo) for dep in matter.depends_on), default=0)
            memo[code] = before + getattr(matter.promised_days, bound)
        return memo[code]

    lows: dict[str, int] = {}
    highs: dict[str, int] = {}
    return DaySpan(
        min=max((finish(code, "min", lows) for code in matters), default=0),
        max=max((finish(code, "max", highs) for code in matters), default=0),
    )


def plan_report(catalogue: Catalogue) -> dict[str, Any]:
    """The figures of DESIGN §5 (`prefill catalog report --json`) and a few more."""
    matters = catalogue.matters
    materials = list(catalogue.materials.values())
    remaining = [m for m in materials if m.reduction.method is None]
    waivable = [m for m in remaining if any(w.certificate for w in m.waivable_by)]
    by_method = {
        method.value: sum(1 for m in materials if m.reduction.method is method) for method in ReductionMethod
    }
    outputs = [catalogue.outputs[o] for m in matters.values() for o in m.outputs]
    in_person_outputs = sum(1 for o in outputs if not o.mailable)
    reductions = catalogue.field_reductions
    after = critical_path(matters)
    return {
        "theme": catalogue.theme.code,
        "name": catalogue.theme.name,
        "matters": len(matters),
        "departments": len({m.department for m in matters.values()}),
        "forms": {"before": len(catalogue.forms.original), "after": 1},
        "materials": {
            "before": len(materials),
            "after": len(remaining),
            "after_with_certificates": len(remaining) - len(waivable),
            "reduced_by": by_method,
        },
        "trips": {
            "before": sum(m.visits_before for m in matters.values()),
            "after": catalogue.theme.visits_to_apply_after + in_person_outputs,
        },
        "steps": {
            "before": sum(m.steps_before for m in matters.values()),
            "after": catalogue.theme.steps_after,
        },
        "working_days": {
            "before": sum(m.statutory_days for m in matters.values()),
            "after": {"min": after.min, "max": after.max},
        },
        "fields": {
            "merged_form": len(catalogue.fields),
            "deduplicated_by_sharing": len(reductions.deduplicated_by_sharing),
            "non_required": len(reductions.non_required),
            "prefilled_from_sharing": len(reductions.prefilled_from_sharing),
        },
        "mailable_outputs": [o.name for o in outputs if o.mailable],
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as text for people."""
    days = report["working_days"]
    materials = report["materials"]
    fields = report["fields"]
    lines = [
        f"{report['name']} ({report['theme']}): "
        f"{report['matters']} matters, {report['departments']} departments",
        f"  forms         {report['forms']['before']:>4} -> {report['forms']['after']}",
        f"  materials     {materials['before']:>4} -> {materials['after']}"
        f" ({materials['after_with_certificates']} once certificates verify)",
        f"  trips         {report['trips']['before']:>4} -> {report['trips']['after']}",
        f"  steps         {report['steps']['before']:>4} -> {report['steps']['after']}",
        f"  working days  {days['before']:>4} -> {days['after']['min']}-{days['after']['max']}",
        f"  form fields   {fields['deduplicated_by_sharing']} deduplicated, "
        f"{fields['non_required']} non-required, {fields['prefilled_from_sharing']} prefilled",
    ]
    return "\n".join(lines)
