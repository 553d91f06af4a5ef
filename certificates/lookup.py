"""Lookup in the provincial e-certificate library (电子证照库), by holder and certificate type.

Every lookup carries the use reason (用证事由) and the five elements — organisation (用证单位),
operator (经办人), matter name and code (事项名称、事项编码) and case number (办件编号) — and is audited
through an injected async callback *before* any certificate is returned: if the callback fails, the
lookup answers ``audit_failed`` with no certificates (fail closed). This package does not import the
audit package; the prefill layer passes a callback that writes the audit record.

Wire protocol (docs/certificates.md)::

    POST {base_url}/ecert/v1/certificates/query        (signed: connectors.signing headers)
    {"holder_code": ..., "holder_code_type": "111", "type_code": ...,
     "use": {"reason", "organisation", "organisation_code", "operator", "matter_name",
             "matter_code", "case_number"}}
    → 200 {"certificates": [<certificate wire form>, ...]}

    GET {base_url}/ecert/v1/issuers → {"issuers": [{"issuer_code", "issuer", "algorithm",
                                                   "public_key_pem"}, ...]}

The ID number travels in the signed body, never in the URL (which ends up in access logs).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from certificates.catalog import CertificateTypes, load_certificate_types
from certificates.errors import MalformedCertificateError
from certificates.model import HOLDER_CODE_TYPE_ID_CARD, Certificate
from certificates.trust import TrustStore
from connectors.clock import Clock, SystemClock, utc_from_timestamp
from connectors.signing import sign_request

QUERY_PATH: Final = "/ecert/v1/certificates/query"
ISSUERS_PATH: Final = "/ecert/v1/issuers"
_MAX_CERTIFICATES: Final = 50


@dataclass(frozen=True, slots=True)
class UseContext:
    """Why and by whom a certificate is used (用证事由 and the five elements). All are required."""

    reason: str  # 用证事由
    organisation: str  # 用证单位 (办事机构)
    operator: str  # 经办人 (办事人员); the applicant's own online request names the service account
    matter_name: str  # 事项名称
    matter_code: str  # 事项编码
    case_number: str  # 办件编号
    organisation_code: str = ""  # 用证单位统一社会信用代码, when known

    def __post_init__(self) -> None:
        for name in ("reason", "organisation", "operator", "matter_name", "matter_code", "case_number"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"use context needs a non-empty {name}")

    def as_wire(self) -> dict[str, str]:
        return {
            "reason": self.reason,
            "organisation": self.organisation,
            "organisation_code": self.organisation_code,
            "operator": self.operator,
            "matter_name": self.matter_name,
            "matter_code": self.matter_code,
            "case_number": self.case_number,
        }


class LookupStatus(StrEnum):
    OK = "ok"  # the library answered with at least one certificate
    NOT_FOUND = "not_found"  # the library answered: no certificate of that type for that holder
    UNKNOWN_TYPE = "unknown_type"  # not a certificate type of our catalogue; nothing was sent
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"  # 5xx, connection failure, an answer we cannot read
    REJECTED = "rejected"  # 4xx: the library refused the request (credentials, missing elements)
    AUDIT_FAILED = "audit_failed"  # the audit callback failed: certificates withheld


@dataclass(frozen=True, slots=True)
class LookupEvent:
    """What the audit callback receives for every lookup. ``holder_id_number`` is the plain ID number:
    the audit layer masks and pseudonymises it; nothing here logs it."""

    request_id: str
    time: datetime
    library: str
    holder_id_number: str
    certificate_type: str
    type_code: str | None
    use: UseContext
    status: LookupStatus
    http_status: int | None
    identifiers: tuple[str, ...]
    latency_ms: float


LookupAuditor = Callable[[LookupEvent], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LookupOutcome:
    """Certificates found (parsed, not yet verified) and entries that could not be parsed."""

    status: LookupStatus
    certificate_type: str
    certificates: tuple[Certificate, ...] = ()
    malformed: tuple[str, ...] = ()
    """One reason per returned entry that is not a well-formed certificate (never a waiver)."""
    detail: str = ""
    request_id: str = ""
    latency_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is LookupStatus.OK


@dataclass(frozen=True, slots=True)
class LibraryCredentials:
    """Our app key and HMAC secret at the library (request signing, DESIGN §6)."""

    app_key: str
    secret: str = field(repr=False)
    method: str = "HMAC-SHA256"


class CertificateLibraryClient:
    """Client of the e-certificate library over an injected, long-lived ``httpx.AsyncClient``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        on_lookup: LookupAuditor,
        credentials: LibraryCredentials | None = None,
        clock: Clock | None = None,
        timeout_s: float = 3.0,
        certificate_types: CertificateTypes | None = None,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._on_lookup = on_lookup
        self._credentials = credentials
        self._clock: Clock = clock or SystemClock()
        self._timeout = timeout_s
        self._types = certificate_types or load_certificate_types()
        self._library = urlsplit(self._base_url).netloc or self._base_url

    def _headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._credentials is not None:
            split = urlsplit(url)
            path = split.path + (f"?{split.query}" if split.query else "")
            headers.update(
                sign_request(
                    method,
                    path,
                    body,
                    app_key=self._credentials.app_key,
                    secret=self._credentials.secret,
                    method=self._credentials.method,
                    timestamp=int(self._clock.time()),
                )
            )
        return headers

    async def lookup(
        self, holder_id_number: str, certificate_type: str, use: UseContext, *, request_id: str | None = None
    ) -> LookupOutcome:
        """Find the holder's certificates of one type. Never raises for library or network failures.

        ``request_id`` (the caller's, so that one request can be traced across systems) is sent as
        ``X-Request-Id``; a fresh one is made when it is not given."""
        request_id = request_id or uuid.uuid4().hex
        started_wall = utc_from_timestamp(self._clock.time())
        started = time.perf_counter()
        cert_type = self._types.by_key.get(certificate_type)
        http_status: int | None = None
        certificates: tuple[Certificate, ...] = ()
        malformed: tuple[str, ...] = ()
        detail = ""
        if cert_type is None:
            status, detail = LookupStatus.UNKNOWN_TYPE, "certificate type not in the catalogue"
        else:
            url = self._base_url + QUERY_PATH
            body = json.dumps(
                {
                    "holder_code": holder_id_number,
                    "holder_code_type": HOLDER_CODE_TYPE_ID_CARD,
                    "type_code": cert_type.type_code,
                    "use": use.as_wire(),
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode("utf-8")
            try:
                response = await self._client.post(
                    url,
                    content=body,
                    headers={**self._headers("POST", url, body), "X-Request-Id": request_id},
                    timeout=self._timeout,
                )
                http_status = response.status_code
                status, certificates, malformed, detail = _read_answer(response, cert_type.type_code)
            except httpx.TimeoutException:
                status, detail = LookupStatus.TIMEOUT, "library did not answer in time"
            except httpx.HTTPError as exc:
                status, detail = LookupStatus.UNAVAILABLE, f"transport error: {type(exc).__name__}"
        latency_ms = (time.perf_counter() - started) * 1000
        event = LookupEvent(
            request_id=request_id,
            time=started_wall,
            library=self._library,
            holder_id_number=holder_id_number,
            certificate_type=certificate_type,
            type_code=cert_type.type_code if cert_type else None,
            use=use,
            status=status,
            http_status=http_status,
            identifiers=tuple(c.identifier for c in certificates),
            latency_ms=latency_ms,
        )
        try:
            await self._on_lookup(event)
        except Exception as exc:  # fail closed: no audit record, no certificate
            return LookupOutcome(
                LookupStatus.AUDIT_FAILED,
                certificate_type,
                detail=f"audit callback failed: {type(exc).__name__}",
                request_id=request_id,
                latency_ms=latency_ms,
            )
        return LookupOutcome(
            status, certificate_type, certificates, malformed, detail, request_id, latency_ms
        )

    async def fetch_trust_store(self) -> TrustStore:
        """The issuers' public keys as the library publishes them.

        For simulated mode and bootstrapping: keys fetched over the same channel as the certificates
        only prove what the library says; production configures pinned keys (TrustStore.from_keys).
        Raises ``httpx.HTTPError`` on transport failure or an error status.
        """
        url = self._base_url + ISSUERS_PATH
        response = await self._client.get(url, headers=self._headers("GET", url, b""), timeout=self._timeout)
        response.raise_for_status()
        return TrustStore.from_published(response.json())


def _read_answer(
    response: httpx.Response, type_code: str
) -> tuple[LookupStatus, tuple[Certificate, ...], tuple[str, ...], str]:
    code = response.status_code
    if code == 404:
        return LookupStatus.NOT_FOUND, (), (), "library: no such holder"
    if 400 <= code < 500:
        return LookupStatus.REJECTED, (), (), f"library refused the request ({code})"
    if code != 200:
        return LookupStatus.UNAVAILABLE, (), (), f"library answered {code}"
    try:
        payload: Any = response.json()
    except ValueError:
        return LookupStatus.UNAVAILABLE, (), (), "library answer is not JSON"
    entries = payload.get("certificates") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        return LookupStatus.UNAVAILABLE, (), (), "library answer has no certificates list"
    certificates: list[Certificate] = []
    malformed: list[str] = []
    for entry in entries[:_MAX_CERTIFICATES]:
        try:
            certificate = Certificate.from_wire(entry)
        except MalformedCertificateError as exc:
            malformed.append(str(exc))
            continue
        if certificate.type_code != type_code:
            malformed.append("certificate of another type than requested")
            continue
        certificates.append(certificate)
    if not certificates and not malformed:
        return LookupStatus.NOT_FOUND, (), (), ""
    status = LookupStatus.OK if certificates else LookupStatus.UNAVAILABLE
    detail = "" if certificates else "library answered only malformed certificates"
    return status, tuple(certificates), tuple(malformed), detail
