"""Certificate verification: seal signature, status, validity window, holder.

:func:`verify_certificate` is a pure function (the caller passes the trust store, the time and the
applicant) that never raises on bad input: every failure is a :class:`VerificationResult` with a stable
``reason_code`` and a short bilingual ``reason``. Only ``verified`` results may waive a material.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Final

from cachetools import TTLCache

from certificates import identifier as identifiers
from certificates.errors import MalformedCertificateError, MalformedIdentifierError
from certificates.model import Certificate, CertificateStatus, content_hash, signing_input
from certificates.trust import SUPPORTED_ALGORITHMS, TrustStore

CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")
"""Validity dates on certificates are calendar dates in Beijing time."""


class ReasonCode(StrEnum):
    VERIFIED = "verified"
    MALFORMED_CERTIFICATE = "malformed_certificate"
    MALFORMED_IDENTIFIER = "malformed_identifier"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNKNOWN_ISSUER = "unknown_issuer"
    BAD_SIGNATURE = "bad_signature"
    REVOKED = "revoked"
    CANCELLED = "cancelled"
    UNKNOWN_STATUS = "unknown_status"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    HOLDER_MISMATCH = "holder_mismatch"
    VERIFICATION_ERROR = "verification_error"


_REASONS: Final[Mapping[ReasonCode, str]] = {
    ReasonCode.VERIFIED: "电子证照核验通过 / certificate verified",
    ReasonCode.MALFORMED_CERTIFICATE: "电子证照数据不完整或格式错误 / malformed certificate data",
    ReasonCode.MALFORMED_IDENTIFIER: "电子证照标识不符合GB/T 36904 / malformed certificate identifier",
    ReasonCode.UNSUPPORTED_ALGORITHM: "签章算法不受支持 / unsupported seal algorithm",
    ReasonCode.UNKNOWN_ISSUER: "颁发机构不在信任列表中 / issuer not in the trust store",
    ReasonCode.BAD_SIGNATURE: "电子印章验证失败 / seal signature does not verify",
    ReasonCode.REVOKED: "电子证照已吊销 / certificate revoked",
    ReasonCode.CANCELLED: "电子证照已注销 / certificate cancelled",
    ReasonCode.UNKNOWN_STATUS: "电子证照状态未知 / unknown certificate status",
    ReasonCode.NOT_YET_VALID: "电子证照尚未生效 / certificate not yet valid",
    ReasonCode.EXPIRED: "电子证照已过有效期 / certificate expired",
    ReasonCode.HOLDER_MISMATCH: "持证人与申请人不一致 / holder is not the applicant",
    ReasonCode.VERIFICATION_ERROR: "核验过程出错 / verification failed unexpectedly",
}


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of verifying one certificate. ``detail`` says more (English, no personal data)."""

    verified: bool
    reason_code: ReasonCode
    reason: str
    identifier: str | None
    content_hash: str | None
    detail: str = ""
    type_code: str | None = None
    issuer_code: str | None = None
    key_id: str | None = None
    from_cache: bool = False


def _result(
    code: ReasonCode,
    certificate: Certificate | None,
    digest: str | None,
    detail: str = "",
    *,
    key_id: str | None = None,
    from_cache: bool = False,
) -> VerificationResult:
    return VerificationResult(
        verified=code is ReasonCode.VERIFIED,
        reason_code=code,
        reason=_REASONS[code],
        identifier=certificate.identifier if certificate else None,
        content_hash=digest,
        detail=detail,
        type_code=certificate.type_code if certificate else None,
        issuer_code=certificate.issuer_code if certificate else None,
        key_id=key_id,
        from_cache=from_cache,
    )


def malformed_result(detail: str) -> VerificationResult:
    """The result for an entry that did not even parse as a certificate."""
    return _result(ReasonCode.MALFORMED_CERTIFICATE, None, None, detail)


class VerificationCache:
    """Bounded cache of *signature* checks that succeeded, keyed by identifier and content hash.

    Only the costly seal check is cached: status, validity window and holder are checked on every call
    (they depend on the time and the applicant). The content hash covers the status and the signature,
    so a revoked or altered certificate misses; a hit also requires the key that verified it to be in
    the current trust store, so removing a key takes effect at once.
    """

    def __init__(self, maxsize: int = 10_000, ttl_seconds: float = 3600.0) -> None:
        self._entries: TTLCache[tuple[str, str], str] = TTLCache(maxsize=maxsize, ttl=ttl_seconds)
        self.hits = 0
        self.misses = 0

    def get(self, identifier: str, digest: str) -> str | None:
        key_id = self._entries.get((identifier, digest))
        if key_id is None:
            self.misses += 1
        else:
            self.hits += 1
        return key_id

    def put(self, identifier: str, digest: str, key_id: str) -> None:
        self._entries[(identifier, digest)] = key_id

    def __len__(self) -> int:
        return len(self._entries)


def _same_id_number(a: str, b: str) -> bool:
    return hmac.compare_digest(a.strip().upper().encode(), b.strip().upper().encode())


def verify_certificate(
    certificate: Certificate | Mapping[str, object],
    *,
    trust_store: TrustStore,
    now: datetime,
    applicant_id_number: str,
    cache: VerificationCache | None = None,
) -> VerificationResult:
    """Verify a certificate for an applicant at ``now`` (timezone-aware).

    Checks, in order: the data parses; the identifier is valid GB/T 36904 and agrees with the type and
    issuer codes; the seal algorithm is supported; the issuer is trusted; the seal verifies over the
    signing input; the status is valid; ``now`` (as a Beijing date) is within the validity window; the
    holder code equals the applicant's ID number. The first failure is the result.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")  # a caller bug, not bad input
    try:
        return _verify(certificate, trust_store, now, applicant_id_number, cache)
    except Exception as exc:  # contract: bad input never raises, never waives
        return _result(ReasonCode.VERIFICATION_ERROR, None, None, type(exc).__name__)


def _verify(
    raw: Certificate | Mapping[str, object],
    trust_store: TrustStore,
    now: datetime,
    applicant_id_number: str,
    cache: VerificationCache | None,
) -> VerificationResult:
    try:
        certificate = raw if isinstance(raw, Certificate) else Certificate.from_wire(raw)
    except MalformedCertificateError as exc:
        return _result(ReasonCode.MALFORMED_CERTIFICATE, None, None, str(exc))
    digest = content_hash(certificate)

    try:
        ident = identifiers.parse(certificate.identifier)
    except MalformedIdentifierError as exc:
        return _result(ReasonCode.MALFORMED_IDENTIFIER, certificate, digest, str(exc))
    if (ident.type_code, ident.issuer_code) != (certificate.type_code, certificate.issuer_code):
        detail = "identifier disagrees with the type or issuer code"
        return _result(ReasonCode.MALFORMED_IDENTIFIER, certificate, digest, detail)

    algorithm = certificate.seal.algorithm
    if algorithm not in SUPPORTED_ALGORITHMS:
        return _result(ReasonCode.UNSUPPORTED_ALGORITHM, certificate, digest, f"algorithm {algorithm[:40]!r}")

    keys = [key for key in trust_store.keys_for(certificate.issuer_code) if key.algorithm == algorithm]
    if not keys:
        detail = "issuer unknown" if certificate.issuer_code not in trust_store else f"no {algorithm} key"
        return _result(ReasonCode.UNKNOWN_ISSUER, certificate, digest, detail)

    cached_key = cache.get(certificate.identifier, digest) if cache is not None else None
    from_cache = cached_key is not None and trust_store.has_key(certificate.issuer_code, cached_key)
    key_id = cached_key if from_cache else None
    if not from_cache:
        try:
            signature = base64.b64decode(certificate.seal.signature, validate=True)
        except (binascii.Error, ValueError):
            return _result(ReasonCode.BAD_SIGNATURE, certificate, digest, "signature is not base64")
        data = signing_input(certificate)
        key_id = next((key.key_id for key in keys if key.verify(signature, data)), None)
        if key_id is None:
            return _result(ReasonCode.BAD_SIGNATURE, certificate, digest, "no trusted key verifies the seal")
        if cache is not None:
            cache.put(certificate.identifier, digest, key_id)

    def fail(code: ReasonCode, detail: str = "") -> VerificationResult:
        return _result(code, certificate, digest, detail, key_id=key_id, from_cache=from_cache)

    if certificate.status != CertificateStatus.VALID:
        if certificate.status == CertificateStatus.REVOKED:
            return fail(ReasonCode.REVOKED)
        if certificate.status == CertificateStatus.CANCELLED:
            return fail(ReasonCode.CANCELLED)
        return fail(ReasonCode.UNKNOWN_STATUS, f"status {certificate.status[:40]!r}")

    today = now.astimezone(CHINA_STANDARD_TIME).date()
    if today < certificate.valid_from:
        return fail(ReasonCode.NOT_YET_VALID, f"valid from {certificate.valid_from.isoformat()}")
    if certificate.valid_to is not None and today > certificate.valid_to:
        return fail(ReasonCode.EXPIRED, f"valid to {certificate.valid_to.isoformat()}")

    if not _same_id_number(certificate.holder_code, applicant_id_number):
        return fail(ReasonCode.HOLDER_MISMATCH)

    return fail(ReasonCode.VERIFIED)
