"""The electronic certificate (电子证照) after the GB/T 36903 metadata, and its canonical forms.

Wire form (what the e-certificate library sends, one JSON object per certificate)::

    {"identifier": "1.2.156.3005.2....", "name": "中华人民共和国居民身份证",
     "type_code": "...", "number": "...", "issuer": "湖北省公安厅", "issuer_code": "...",
     "issue_date": "2019-05-01", "valid_from": "2019-05-01", "valid_to": "2039-05-01" | null,
     "holder": "...", "holder_code": "...", "holder_code_type": "111", "status": "valid",
     "jurisdiction": "420102", "surface": {"address": "..."},
     "seal": {"signer": "...", "signed_at": "2019-05-01T09:30:00+08:00",
              "algorithm": "SM2-SM3", "signature": "<base64 DER>"}}

Two canonical serialisations (docs/certificates.md):

- the *signing input* — what the issuer's seal signs: the wire object without ``status`` (the library's
  live attribute, which changes on revocation long after sealing) and without ``seal.signature``;
- the *content hash* — SHA-256 over the whole wire object (status and signature included), so that any
  change, a revocation included, yields a new cache key.

Both are UTF-8 compact JSON with sorted keys and no ASCII escaping. Unknown keys are dropped on parsing,
so they are neither signed nor trusted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from certificates.errors import MalformedCertificateError

_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REGION_RE: Final = re.compile(r"[0-9]{6}")
_MAX_TEXT: Final = 512
_MAX_SIGNATURE: Final = 1024
_MAX_SURFACE_ITEMS: Final = 64

HOLDER_CODE_TYPE_ID_CARD: Final = "111"
"""持证主体代码类型 of a resident identity card number (证件类型 111)."""


class CertificateStatus(StrEnum):
    """证照状态 as the library reports it."""

    VALID = "valid"  # 有效
    REVOKED = "revoked"  # 吊销
    CANCELLED = "cancelled"  # 注销


@dataclass(frozen=True, slots=True)
class Seal:
    """The issuer's electronic seal (电子印章) over the certificate data."""

    signer: str
    signed_at: str
    """ISO 8601 with offset, kept exactly as received because it is signed."""
    algorithm: str
    """``SM2-SM3``, ``ECDSA-P256-SHA256`` or ``Ed25519``; other values are parsed and rejected later."""
    signature: str
    """Base64 (standard alphabet) of the DER signature (SM2, ECDSA) or the raw 64 bytes (Ed25519)."""

    @property
    def signed_at_datetime(self) -> datetime:
        return datetime.fromisoformat(self.signed_at)


@dataclass(frozen=True, slots=True)
class Certificate:
    """One electronic certificate with the GB/T 36903 metadata elements."""

    identifier: str  # 证照标识 (GB/T 36904); validated by verification, not here
    name: str  # 证照名称
    type_code: str  # 证照类型代码
    number: str  # 证照编号
    issuer: str  # 证照颁发机构
    issuer_code: str  # 证照颁发机构代码 (统一社会信用代码)
    issue_date: date  # 证照颁发日期
    valid_from: date  # 证照有效期起始日期
    valid_to: date | None  # 证照有效期截止日期; None: long-term (长期)
    holder: str  # 持证主体
    holder_code: str  # 持证主体代码
    holder_code_type: str  # 持证主体代码类型
    status: str  # 证照状态, see CertificateStatus
    jurisdiction: str  # 证照所属行政区划代码 (GB/T 2260)
    seal: Seal
    surface: Mapping[str, str] = field(default_factory=dict)  # 照面信息 (other face data)

    def to_wire(self) -> dict[str, Any]:
        """The wire form (see the module docstring)."""
        return {
            "identifier": self.identifier,
            "name": self.name,
            "type_code": self.type_code,
            "number": self.number,
            "issuer": self.issuer,
            "issuer_code": self.issuer_code,
            "issue_date": self.issue_date.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "holder": self.holder,
            "holder_code": self.holder_code,
            "holder_code_type": self.holder_code_type,
            "status": self.status,
            "jurisdiction": self.jurisdiction,
            "surface": dict(self.surface),
            "seal": {
                "signer": self.seal.signer,
                "signed_at": self.seal.signed_at,
                "algorithm": self.seal.algorithm,
                "signature": self.seal.signature,
            },
        }

    @classmethod
    def from_wire(cls, data: object) -> Certificate:
        """Parse the wire form strictly; raise :class:`MalformedCertificateError` saying what is wrong."""
        if not isinstance(data, Mapping):
            raise MalformedCertificateError("certificate is not an object")
        seal_data = data.get("seal")
        if not isinstance(seal_data, Mapping):
            raise MalformedCertificateError("seal is missing")
        signed_at = _text(seal_data, "signed_at", where="seal.")
        try:
            parsed_signed_at = datetime.fromisoformat(signed_at)
        except ValueError:
            raise MalformedCertificateError("seal.signed_at is not an ISO 8601 time") from None
        if parsed_signed_at.tzinfo is None:
            raise MalformedCertificateError("seal.signed_at has no UTC offset")
        seal = Seal(
            signer=_text(seal_data, "signer", where="seal."),
            signed_at=signed_at,
            algorithm=_text(seal_data, "algorithm", where="seal."),
            signature=_text(seal_data, "signature", where="seal.", limit=_MAX_SIGNATURE),
        )
        jurisdiction = _text(data, "jurisdiction")
        if not _REGION_RE.fullmatch(jurisdiction):
            raise MalformedCertificateError("jurisdiction is not a six-digit GB/T 2260 code")
        valid_to_raw = data.get("valid_to")
        return cls(
            identifier=_text(data, "identifier"),
            name=_text(data, "name"),
            type_code=_text(data, "type_code"),
            number=_text(data, "number"),
            issuer=_text(data, "issuer"),
            issuer_code=_text(data, "issuer_code"),
            issue_date=_date(data, "issue_date"),
            valid_from=_date(data, "valid_from"),
            valid_to=None if valid_to_raw is None else _date(data, "valid_to"),
            holder=_text(data, "holder"),
            holder_code=_text(data, "holder_code"),
            holder_code_type=_text(data, "holder_code_type"),
            status=_text(data, "status"),
            jurisdiction=jurisdiction,
            seal=seal,
            surface=_surface(data.get("surface", {})),
        )


def _text(data: Mapping[str, Any], key: str, *, where: str = "", limit: int = _MAX_TEXT) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedCertificateError(f"{where}{key} is missing or not a string")
    if len(value) > limit:
        raise MalformedCertificateError(f"{where}{key} is too long")
    return value


def _date(data: Mapping[str, Any], key: str) -> date:
    value = _text(data, key)
    if not _DATE_RE.fullmatch(value):
        raise MalformedCertificateError(f"{key} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MalformedCertificateError(f"{key} is not a calendar date") from None


def _surface(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or len(value) > _MAX_SURFACE_ITEMS:
        raise MalformedCertificateError("surface is not an object of at most 64 entries")
    surface: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str) or len(item) > _MAX_TEXT:
            raise MalformedCertificateError("surface entries must be short strings")
        surface[key] = item
    return surface


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """UTF-8 compact JSON with sorted keys, no ASCII escaping: the one serialisation we sign and hash.

    >>> canonical_json({"b": "户口", "a": None})
    b'{"a":null,"b":"\\xe6\\x88\\xb7\\xe5\\x8f\\xa3"}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signing_input(certificate: Certificate) -> bytes:
    """The bytes the issuer's seal signs: the wire form without ``status`` and ``seal.signature``."""
    wire = certificate.to_wire()
    del wire["status"]
    del wire["seal"]["signature"]
    return canonical_json(wire)


def content_hash(certificate: Certificate) -> str:
    """SHA-256 (hex) over the whole wire form: changes with any element, status and signature included."""
    return hashlib.sha256(canonical_json(certificate.to_wire())).hexdigest()
