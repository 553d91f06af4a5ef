"""State of the simulated provincial e-certificate library (省数据局 电子证照库).

The library is "another department": this module deliberately does not import ``certificates``. It
builds its identifiers (GB/T 36904, ISO 7064 MOD 37,36 check character), its canonical form and its
SM2 seals on its own, following docs/certificates.md, so that the tests of ``certificates`` check an
independent implementation rather than the package against itself.

Everything derives from a seed: the issuers' SM2 private keys, serials and household numbers. SM2
signatures are randomised, so the signature values differ between processes; they all verify.

Per persona (connectors/simulator/personas.py, ``Persona.certificates``), a certificate is ``valid``,
``revoked`` (status revoked), ``expired`` (validity ended in 2015) or ``bad_signature`` (its data was
altered after sealing, so the seal does not verify).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, Protocol

from stdnum.iso7064 import mod_37_36
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec

DEFAULT_SEED: Final = b"hubei-flexible-employment/ecert-library/v1"
ROOT: Final = "1.2.156.3005.2"
SM2_ORDER: Final = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
HOLDER_CODE_TYPE_ID_CARD: Final = "111"

# Simulated codes, well-formed (unified social credit codes with a correct check character). They must
# agree with certificates/data/certificate_types.yaml; a test checks that they do.
TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "id_card": ("中华人民共和国居民身份证", "11100000000000001M001"),
    "household_register": ("居民户口簿", "11100000000000001M002"),
}
ISSUER_CODE: Final = "114200000000000012"
ISSUER_NAME: Final = "湖北省公安厅"


class PersonaLike(Protocol):
    """What the library needs of a persona (connectors.simulator.personas.Persona)."""

    @property
    def id_number(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def certificates(self) -> Mapping[str, str]: ...
    @property
    def records(self) -> Mapping[str, Mapping[str, str]]: ...


@dataclass(frozen=True)
class SimIssuer:
    code: str
    name: str
    private_key: Any = field(repr=False)
    algorithm: str = "SM2-SM3"

    @property
    def public_key_pem(self) -> str:
        pem: bytes = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode("ascii")

    def published(self) -> dict[str, str]:
        return {
            "issuer_code": self.code,
            "issuer": self.name,
            "algorithm": self.algorithm,
            "public_key_pem": self.public_key_pem,
        }

    def sign(self, data: bytes) -> str:
        """SM2 with SM3 (default user ID), DER, base64."""
        signature: bytes = self.private_key.sign(data, ec.ECDSA(hashes.SM3()))
        return base64.b64encode(signature).decode("ascii")


@dataclass(frozen=True)
class EcertLibrary:
    issuers: tuple[SimIssuer, ...]
    certificates: Mapping[tuple[str, str], tuple[dict[str, Any], ...]]
    """(holder code, type code) → certificates in wire form."""

    def query(self, holder_code: str, type_code: str) -> list[dict[str, Any]]:
        found = self.certificates.get((holder_code.strip().upper(), type_code), ())
        return [json.loads(json.dumps(c)) for c in found]  # copies: callers cannot alter the library

    def published_issuers(self) -> dict[str, Any]:
        return {"issuers": [issuer.published() for issuer in self.issuers]}


def _digest(seed: bytes, *parts: str) -> bytes:
    return hashlib.sha256(seed + b"|" + "|".join(parts).encode("utf-8")).digest()


def derive_issuer(seed: bytes, code: str, name: str) -> SimIssuer:
    scalar = 1 + int.from_bytes(_digest(seed, "issuer-key", code), "big") % (SM2_ORDER - 1)
    return SimIssuer(code, name, ec.derive_private_key(scalar, ec.SM2()))


def make_identifier(type_code: str, issuer_code: str, serial: str, version: str = "001") -> str:
    check = mod_37_36.calc_check_digit(type_code + issuer_code + serial + version)
    return ".".join((ROOT, type_code, issuer_code, serial, version, check))


def canonical_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signing_input(wire: Mapping[str, Any]) -> bytes:
    """The documented signing input: the wire form without ``status`` and ``seal.signature``."""
    unsigned = {k: v for k, v in wire.items() if k != "status"}
    unsigned["seal"] = {k: v for k, v in wire["seal"].items() if k != "signature"}
    return canonical_json(unsigned)


def seal_certificate(issuer: SimIssuer, wire: dict[str, Any]) -> dict[str, Any]:
    wire["seal"]["signature"] = issuer.sign(signing_input(wire))
    return wire


def _certificate(
    seed: bytes, issuer: SimIssuer, persona: PersonaLike, type_key: str, state: str
) -> dict[str, Any]:
    name, type_code = TYPES[type_key]
    household = persona.records.get("psb_household") or {}
    address = household.get("hukou_address", "湖北省")
    region = persona.id_number[:6]
    digest = _digest(seed, "certificate", type_key, persona.id_number)
    valid_to: str | None
    if type_key == "id_card":
        if state == "expired":
            issue_date, valid_to = "2005-03-01", "2015-03-01"
        else:
            issue_date, valid_to = "2019-05-01", "2039-05-01"
        number = persona.id_number
        surface = {
            "birth_date": persona.id_number[6:10]
            + "-"
            + persona.id_number[10:12]
            + "-"
            + persona.id_number[12:14],
            "address": address,
        }
    else:
        issue_date, valid_to = ("2006-09-01", "2016-09-01") if state == "expired" else ("2006-09-01", None)
        number = region + str(int.from_bytes(digest[:8], "big") % 10**9).zfill(9)  # 户号
        surface = {"address": address, "hukou_nature": household.get("hukou_nature", "1")}
    serial = issue_date[:4] + str(int.from_bytes(digest[8:16], "big") % 10**10).zfill(10)
    wire: dict[str, Any] = {
        "identifier": make_identifier(type_code, issuer.code, serial),
        "name": name,
        "type_code": type_code,
        "number": number,
        "issuer": issuer.name,
        "issuer_code": issuer.code,
        "issue_date": issue_date,
        "valid_from": issue_date,
        "valid_to": valid_to,
        "holder": persona.full_name,
        "holder_code": persona.id_number,
        "holder_code_type": HOLDER_CODE_TYPE_ID_CARD,
        "status": "revoked" if state == "revoked" else "valid",
        "jurisdiction": region,
        "surface": surface,
        "seal": {
            "signer": issuer.name + "电子印章",
            "signed_at": issue_date + "T09:30:00+08:00",
            "algorithm": issuer.algorithm,
        },
    }
    seal_certificate(issuer, wire)
    if state == "bad_signature":
        wire["surface"]["address"] = address + "（涂改）"  # altered after sealing
    return wire


def build_library(seed: bytes = DEFAULT_SEED, personas: Iterable[PersonaLike] | None = None) -> EcertLibrary:
    """Build the library's issuers and certificates; ``personas`` defaults to the documented ones."""
    if personas is None:
        from connectors.simulator.personas import PERSONAS

        personas = PERSONAS.values()
    issuer = derive_issuer(seed, ISSUER_CODE, ISSUER_NAME)
    certificates: dict[tuple[str, str], tuple[dict[str, Any], ...]] = {}
    for persona in personas:
        for type_key, state in persona.certificates.items():
            if type_key not in TYPES:
                continue
            wire = _certificate(seed, issuer, persona, type_key, state)
            certificates[(persona.id_number.upper(), TYPES[type_key][1])] = (wire,)
    return EcertLibrary((issuer,), certificates)


@cache
def default_library() -> EcertLibrary:
    """The library of simulated mode, built once per process from :data:`DEFAULT_SEED`."""
    return build_library()
