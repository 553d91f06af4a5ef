"""Audit events for what a prefill reads: source reads, cache disclosures, certificate lookups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from audit.schemas import Action, AuditEvent, Purpose, Requester, SourceRef, Subject
from audit.schemas import Outcome as AuditOutcome
from audit.service import AuditLog
from certificates.lookup import LookupEvent, LookupStatus
from connectors.base import Outcome, SourceResult

CERTIFICATE_LIBRARY = SourceRef(
    department="data_bureau", source="ecert_library", service="certificates/query"
)

_SOURCE_OUTCOMES = {
    Outcome.OK: (AuditOutcome.OK, None),
    Outcome.NOT_FOUND: (AuditOutcome.NOT_FOUND, None),
    Outcome.UNAVAILABLE: (AuditOutcome.UNAVAILABLE, None),
    Outcome.TIMEOUT: (AuditOutcome.TIMEOUT, None),
    Outcome.REJECTED: (AuditOutcome.ERROR, "rejected"),
    Outcome.MAINTENANCE: (AuditOutcome.UNAVAILABLE, "maintenance"),
}
_LOOKUP_OUTCOMES = {
    LookupStatus.OK: (AuditOutcome.OK, None),
    LookupStatus.NOT_FOUND: (AuditOutcome.NOT_FOUND, None),
    LookupStatus.UNKNOWN_TYPE: (AuditOutcome.ERROR, "unknown_type"),
    LookupStatus.TIMEOUT: (AuditOutcome.TIMEOUT, None),
    LookupStatus.UNAVAILABLE: (AuditOutcome.UNAVAILABLE, None),
    LookupStatus.REJECTED: (AuditOutcome.ERROR, "rejected"),
    LookupStatus.AUDIT_FAILED: (AuditOutcome.ERROR, "audit_failed"),
}


@dataclass(frozen=True)
class ReadContext:
    """Who reads, for what, about whom: the same for every read of one prefill."""

    requester: Requester
    purpose: Purpose
    subject: Subject
    request_id: str | None
    deferred: list[AuditEvent] | None = field(default=None, compare=False)
    """When a list, certificate lookups are collected here and appended with the prefill's source reads
    in one transaction, still before anything is disclosed; when None, each is appended at once."""


# The certificate library calls back with each lookup; the prefill that caused it is found here.
current_read_context: ContextVar[ReadContext | None] = ContextVar("current_read_context", default=None)


def source_read_event(context: ReadContext, result: SourceResult) -> AuditEvent:
    outcome, reason = _SOURCE_OUTCOMES[result.outcome]
    action = Action.SOURCE_READ
    if result.from_cache:
        action, outcome = Action.CACHE_DISCLOSURE, AuditOutcome.CACHE_HIT
    return AuditEvent(
        action=action,
        requester=context.requester,
        purpose=context.purpose,
        source=SourceRef(department=result.department, source=result.source),
        subject=context.subject,
        fields=tuple(sorted(result.requested)),
        outcome=outcome,
        latency_ms=round(result.latency_ms),
        request_id=context.request_id,
        reason=reason,
    )


def certificate_lookup_event(context: ReadContext, event: LookupEvent) -> AuditEvent:
    outcome, reason = _LOOKUP_OUTCOMES[event.status]
    return AuditEvent(
        action=Action.CERTIFICATE_LOOKUP,
        requester=context.requester,
        purpose=context.purpose,
        source=CERTIFICATE_LIBRARY,
        subject=context.subject,
        fields=(f"certificate.{event.certificate_type}",),
        outcome=outcome,
        latency_ms=round(event.latency_ms),
        request_id=context.request_id,
        reason=reason,
    )


def certificate_lookup_auditor(audit_log: AuditLog) -> Callable[[LookupEvent], Awaitable[None]]:
    """The certificate library's callback: record each lookup before its result is disclosed.

    Within a prefill that collects its records (``ReadContext.deferred``) the record joins the prefill's
    single append, which happens before any value or decision leaves the service: one durable commit
    on the critical path instead of one per lookup plus one for the source reads."""

    async def record(event: LookupEvent) -> None:
        context = current_read_context.get()
        if context is None:
            raise RuntimeError("certificate lookup outside a prefill")
        if context.deferred is not None:
            context.deferred.append(certificate_lookup_event(context, event))
            return
        await audit_log.append(certificate_lookup_event(context, event))

    return record
