"""A prefill, step by step (DESIGN §3): read every source the requested matters need and look up the
certificates that could waive their materials — all at once under one deadline — audit every read
before any value leaves, then fill the merged form, decide the materials and sign the locked values."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from audit.schemas import Purpose, Requester, Subject
from audit.service import AuditLog
from certificates.lookup import LookupStatus, UseContext
from certificates.service import CertificateCheck, check_certificate
from connectors.base import Source, SourceResult
from connectors.clock import Clock
from prefill.auth.policy import Principal
from prefill.catalog.loader import ASSERTION, Catalogue
from prefill.catalog.service import CatalogueStore
from prefill.errors import ServiceError
from prefill.mapping import CertificateEvidence, build_prefill, materials_for
from prefill.metrics import PrefillMetrics
from prefill.prefilling.audit_events import (
    ReadContext,
    current_read_context,
    source_read_event,
)
from prefill.prefilling.schemas import PrefillRequest, PrefillResult
from prefill.runtime import Runtime
from prefill.tokens import PrefillTokenSigner

log = logging.getLogger(__name__)

LEGAL_BASIS = "《湖北省“灵活就业一件事”一事联办优化方案》；申请人授权（身份认证平台断言）"
USE_REASON = "办理灵活就业一件事：核验申请材料"
USE_ORGANISATION = "湖北省政务服务“一事联办”平台"
_LIBRARY_FAILURES = {
    LookupStatus.TIMEOUT,
    LookupStatus.UNAVAILABLE,
    LookupStatus.REJECTED,
    LookupStatus.AUDIT_FAILED,
}


class UnknownMatterError(ServiceError):
    status, code, title = 422, "unknown_matter", "Unknown matter"


class NoMattersError(ServiceError):
    status, code, title = 422, "no_matters", "No matters requested"


class AuditUnavailableError(ServiceError):
    status, code, title = 503, "audit_unavailable", "Audit log unavailable"


@dataclass(frozen=True)
class PrefillCaller:
    """Who asks, as the audit records them; ``case_number`` for window staff."""

    requester: Requester
    case_number: str | None = None


def library_failure(certificate_type: str, reason_code: str, reason: str) -> CertificateEvidence:
    """Evidence that could not be had because the library could not be asked: a sharing failure."""
    return CertificateEvidence(
        certificate_type=certificate_type,
        verified=False,
        reason_code=reason_code,
        reason=reason,
        lookup_failed=True,
    )


def requester_of(principal: Principal) -> Requester:
    """The audit's view of an authenticated caller."""
    return Requester(
        client_id=principal.client_id,
        role=principal.role.value,
        department=principal.department,
        operator_id=principal.operator_id,
    )


def caller_from(principal: Principal) -> PrefillCaller:
    return PrefillCaller(requester=requester_of(principal), case_number=principal.case_number)


def resolve_matters(catalogue: Catalogue, requested: list[str] | None) -> list[str]:
    """The requested matters in catalogue order; every one by default."""
    if requested is None:
        return list(catalogue.matters)
    if not requested:
        raise NoMattersError("name at least one matter, or omit `matters` for all of them", field="matters")
    unknown = sorted(set(requested) - set(catalogue.matters))
    if unknown:
        raise UnknownMatterError(
            f"unknown matter(s) {', '.join(unknown)} in theme {catalogue.theme.code}", field="matters"
        )
    return [code for code in catalogue.matters if code in set(requested)]


def fields_by_source(catalogue: Catalogue, matters: list[str]) -> dict[str, list[str]]:
    """The fields to read from each source: only those the matters need (data minimisation)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for spec in catalogue.fields_for(matters):
        if spec.provided_by not in (None, ASSERTION):
            grouped[spec.provided_by].append(spec.code)
    return dict(grouped)


def certificate_uses(catalogue: Catalogue, matters: list[str]) -> dict[str, str]:
    """Certificate type -> the first requested matter whose still-asked material it can waive."""
    uses: dict[str, str] = {}
    for material in materials_for(catalogue, matters):
        if material.reduction.method is not None:
            continue
        matter = next(m for m in catalogue.matters if m in material.required_by and m in matters)
        for waiver in material.waivable_by:
            if waiver.certificate is not None:
                uses.setdefault(waiver.certificate, matter)
    return uses


class PrefillService:
    def __init__(
        self,
        *,
        catalogues: CatalogueStore,
        runtime: Runtime,
        audit_log: AuditLog,
        signer: PrefillTokenSigner,
        pseudonym_key: bytes,
        deadline_s: float,
        clock: Clock,
        metrics: PrefillMetrics | None = None,
        catalogue_for: Callable[[str], Catalogue] | None = None,
        sources: Callable[[], Mapping[str, Source]] | None = None,
    ) -> None:
        self._catalogues = catalogues
        self._runtime = runtime
        # The shared-field registry supplies both (prefill/registry/effective.py): its effect shows at
        # the next prefill. Called with no await in between, so both come from one registry generation.
        self._catalogue_for = catalogue_for or catalogues.get
        self._sources = sources or (lambda: runtime.sources)
        self._audit = audit_log
        self._signer = signer
        self._pseudonym_key = pseudonym_key
        self._deadline_s = deadline_s
        self._clock = clock
        self._metrics = metrics or PrefillMetrics(process=False)

    async def prefill(
        self, request: PrefillRequest, caller: PrefillCaller, subject_id_number: str, request_id: str | None
    ) -> PrefillResult:
        started = time.perf_counter()
        result = "error"
        try:
            response = await self._prefill(request, caller, subject_id_number, request_id)
            result = "ok"
            return response
        except ServiceError as exc:
            result = exc.code
            raise
        finally:
            # Theme label only for known themes: a caller's typo must not mint a new series.
            theme = request.theme if request.theme in self._catalogues.themes else "unknown"
            self._metrics.observe_prefill(theme, result, time.perf_counter() - started)

    async def _prefill(
        self, request: PrefillRequest, caller: PrefillCaller, subject_id_number: str, request_id: str | None
    ) -> PrefillResult:
        catalogue = self._catalogue_for(request.theme)
        matters = resolve_matters(catalogue, request.matters)
        prefill_id = uuid.uuid4().hex
        subject = Subject.from_id_number(subject_id_number, self._pseudonym_key)
        context = ReadContext(
            requester=caller.requester,
            purpose=Purpose(
                theme=catalogue.theme.code,
                matters=tuple(matters),
                case_id=caller.case_number or prefill_id,
                legal_basis=LEGAL_BASIS,
            ),
            subject=subject,
            request_id=request_id,
            deferred=[],  # certificate lookups: appended below with the source reads, in one commit
        )
        results, certificates = await self._read_everything(catalogue, matters, subject_id_number, context)
        self._metrics.observe_reads(results.values())
        events = [source_read_event(context, r) for r in results.values()] + list(context.deferred or ())
        appending = time.perf_counter()
        try:
            await self._audit.append_many(events)
        except Exception as exc:
            # Fail closed: what cannot be recorded is not disclosed.
            self._metrics.observe_audit_append(time.perf_counter() - appending, 0, ok=False)
            log.error("audit append failed; prefill withheld", extra={"error_type": type(exc).__name__})
            raise AuditUnavailableError("the read could not be recorded, so no data is returned") from None
        self._metrics.observe_audit_append(time.perf_counter() - appending, len(events), ok=True)

        outcome = build_prefill(catalogue, matters, results, certificates, subject_id_number)
        now = int(self._clock.time())
        token, expires = self._signer.issue(
            prefill_id=prefill_id,
            theme=catalogue.theme.code,
            matters=matters,
            subject_key=subject.key,
            locked_values=outcome.locked_values,
            now=now,
        )
        # The outcome's own dataclasses, serialised as they are (prefill_json): no pydantic validation
        # of values that come from our typed objects, and no ``asdict`` deep copies (bench/, README).
        return PrefillResult(
            prefill_id=prefill_id,
            theme=catalogue.theme.code,
            matters=matters,
            fields=outcome.fields,
            materials=outcome.materials,
            summary=outcome.summary,
            notices=outcome.notices,
            prefill_token=token,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    async def _read_everything(
        self, catalogue: Catalogue, matters: list[str], id_number: str, context: ReadContext
    ) -> tuple[dict[str, SourceResult], dict[str, CertificateEvidence]]:
        deadline = self._clock.monotonic() + self._deadline_s
        reads = fields_by_source(catalogue, matters)
        uses = certificate_uses(catalogue, matters)
        sources = self._sources()
        token = current_read_context.set(context)  # tasks created below inherit it
        try:
            gathered = await asyncio.gather(
                *(
                    sources[source].fetch(id_number, codes, deadline=deadline, request_id=context.request_id)
                    for source, codes in reads.items()
                ),
                *(
                    self._timed_certificate(catalogue, cert_type, matter, id_number, context, deadline)
                    for cert_type, matter in uses.items()
                ),
            )
        finally:
            current_read_context.reset(token)
        results = {r.source: r for r in gathered if isinstance(r, SourceResult)}
        evidence = {e.certificate_type: e for e in gathered if isinstance(e, CertificateEvidence)}
        return results, evidence

    async def _timed_certificate(
        self,
        catalogue: Catalogue,
        certificate_type: str,
        matter: str,
        id_number: str,
        context: ReadContext,
        deadline: float,
    ) -> CertificateEvidence:
        started = time.perf_counter()
        evidence = await self._certificate(catalogue, certificate_type, matter, id_number, context, deadline)
        result = "verified" if evidence.verified else "lookup_failed" if evidence.lookup_failed else "refused"
        self._metrics.observe_certificate(certificate_type, result, time.perf_counter() - started)
        return evidence

    async def _certificate(
        self,
        catalogue: Catalogue,
        certificate_type: str,
        matter: str,
        id_number: str,
        context: ReadContext,
        deadline: float,
    ) -> CertificateEvidence:
        use = UseContext(
            reason=USE_REASON,
            organisation=USE_ORGANISATION,
            operator=context.requester.operator_id or context.requester.client_id,
            matter_name=catalogue.matters[matter].name,
            matter_code=matter,
            case_number=context.purpose.case_id or "-",
        )
        remaining = max(0.0, deadline - self._clock.monotonic())
        try:
            check = await asyncio.wait_for(
                self._check(certificate_type, id_number, use, context.request_id), timeout=remaining
            )
        except TimeoutError:
            return library_failure(
                certificate_type, "timeout", "电子证照库响应超时 / certificate library timed out"
            )
        except Exception as exc:  # the library's keys could not be had: a sharing failure
            log.warning("certificate check failed", extra={"error_type": type(exc).__name__})
            return library_failure(
                certificate_type, "unavailable", "电子证照库暂不可用 / certificate library unavailable"
            )
        verified = check.verified
        if verified is not None:
            return CertificateEvidence(
                certificate_type=certificate_type,
                verified=True,
                reason_code="verified",
                reason=verified.reason,
                identifier=verified.identifier,
            )
        first = check.results[0].reason_code if check.results else check.lookup.status.value
        return CertificateEvidence(
            certificate_type=certificate_type,
            verified=False,
            reason_code=str(first),
            reason=check.reason,
            lookup_failed=check.lookup.status in _LIBRARY_FAILURES,
        )

    async def _check(
        self, certificate_type: str, id_number: str, use: UseContext, request_id: str | None
    ) -> CertificateCheck:
        trust_store = await self._runtime.trust_store()
        return await check_certificate(
            self._runtime.certificates,
            applicant_id_number=id_number,
            certificate_type=certificate_type,
            use=use,
            trust_store=trust_store,
            now=datetime.fromtimestamp(self._clock.time(), UTC),
            cache=self._runtime.verification_cache,
            request_id=request_id,
        )
