"""Lookup + verification in one call: what the prefill layer needs to decide a waiver.

The prefill layer, for each material that :func:`certificates.waivers.load_waivers` says a certificate
type can waive, calls :func:`check_certificate` and waives the material only if ``check.verified``.
The lookup's audit callback has already run (fail closed) when this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from certificates.lookup import CertificateLibraryClient, LookupOutcome, LookupStatus, UseContext
from certificates.trust import TrustStore
from certificates.verify import (
    VerificationCache,
    VerificationResult,
    malformed_result,
    verify_certificate,
)
from certificates.waivers import load_waivers

_LOOKUP_REASONS: dict[LookupStatus, str] = {
    LookupStatus.OK: "",
    LookupStatus.NOT_FOUND: "未查到电子证照 / no certificate found",
    LookupStatus.UNKNOWN_TYPE: "证照类型未登记 / certificate type not catalogued",
    LookupStatus.TIMEOUT: "电子证照库响应超时 / certificate library timed out",
    LookupStatus.UNAVAILABLE: "电子证照库暂不可用 / certificate library unavailable",
    LookupStatus.REJECTED: "电子证照库拒绝请求 / certificate library refused the request",
    LookupStatus.AUDIT_FAILED: "用证记录写入失败 / the use could not be audited",
}


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """One certificate type checked for one applicant."""

    certificate_type: str
    lookup: LookupOutcome
    results: tuple[VerificationResult, ...]
    """One per certificate returned, plus one ``malformed_certificate`` per unreadable entry."""
    waivable_materials: tuple[str, ...]

    @property
    def verified(self) -> VerificationResult | None:
        """The first verified certificate, if any (its identifier and content hash are the evidence)."""
        return next((r for r in self.results if r.verified), None)

    @property
    def reason(self) -> str:
        """Why the material can or cannot be waived (bilingual, no personal data)."""
        found = self.verified
        if found is not None:
            return found.reason
        if self.lookup.status is not LookupStatus.OK:
            return _LOOKUP_REASONS[self.lookup.status]
        return self.results[0].reason if self.results else _LOOKUP_REASONS[LookupStatus.NOT_FOUND]


async def check_certificate(
    client: CertificateLibraryClient,
    *,
    applicant_id_number: str,
    certificate_type: str,
    use: UseContext,
    trust_store: TrustStore,
    now: datetime,
    cache: VerificationCache | None = None,
    request_id: str | None = None,
) -> CertificateCheck:
    """Look up the applicant's certificates of one type and verify each; never raises on bad data."""
    outcome = await client.lookup(applicant_id_number, certificate_type, use, request_id=request_id)
    results = [
        verify_certificate(
            certificate,
            trust_store=trust_store,
            now=now,
            applicant_id_number=applicant_id_number,
            cache=cache,
        )
        for certificate in outcome.certificates
    ]
    results += [malformed_result(why) for why in outcome.malformed]
    return CertificateCheck(
        certificate_type=certificate_type,
        lookup=outcome,
        results=tuple(results),
        waivable_materials=load_waivers().materials_for(certificate_type),
    )
