from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes as crypto_hashes
from cryptography.hazmat.primitives import serialization as crypto_serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tongsuopy.crypto import hashes as tongsuo_hashes
from tongsuopy.crypto import serialization as tongsuo_serialization
from tongsuopy.crypto.asymciphers import ec as tongsuo_ec

from certificates import identifier
from certificates.model import Certificate, signing_input
from certificates.trust import ECDSA_P256_SHA256, ED25519, SM2_SM3, IssuerKey, TrustStore

ISSUER_CODE = "11420100MB0000001C"  # well-formed, made up
TYPE_CODE = "11100000000000001M001"  # id_card in the packaged catalogue
APPLICANT = "420102198803150137"
NOW = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Signer:
    """A test issuer: one private key of one algorithm, and its public key in the trust store."""

    def __init__(self, algorithm: str, issuer_code: str = ISSUER_CODE) -> None:
        self.algorithm = algorithm
        self.issuer_code = issuer_code
        if algorithm == SM2_SM3:
            self.private_key: Any = tongsuo_ec.generate_private_key(tongsuo_ec.SM2())
            pem = self.private_key.public_key().public_bytes(
                tongsuo_serialization.Encoding.PEM, tongsuo_serialization.PublicFormat.SubjectPublicKeyInfo
            )
        else:
            if algorithm == ECDSA_P256_SHA256:
                self.private_key = crypto_ec.generate_private_key(crypto_ec.SECP256R1())
            else:
                self.private_key = Ed25519PrivateKey.generate()
            pem = self.private_key.public_key().public_bytes(
                crypto_serialization.Encoding.PEM, crypto_serialization.PublicFormat.SubjectPublicKeyInfo
            )
        self.pem = pem.decode()
        self.key = IssuerKey.from_pem(issuer_code, self.pem, algorithm, issuer="测试颁发机构")

    def sign_bytes(self, data: bytes) -> bytes:
        if self.algorithm == SM2_SM3:
            return bytes(self.private_key.sign(data, tongsuo_ec.ECDSA(tongsuo_hashes.SM3())))
        if self.algorithm == ECDSA_P256_SHA256:
            return bytes(self.private_key.sign(data, crypto_ec.ECDSA(crypto_hashes.SHA256())))
        return bytes(self.private_key.sign(data))

    def certificate(self, **changes: Any) -> dict[str, Any]:
        """A sealed certificate in wire form; ``changes`` are applied before sealing."""
        wire = base_wire(self.issuer_code, self.algorithm)
        seal_changes = changes.pop("seal", {})
        wire.update(changes)
        wire["seal"].update(seal_changes)
        if "identifier" not in changes:
            wire["identifier"] = identifier.build(wire["type_code"], wire["issuer_code"], "2019000001")
        return self.seal(wire)

    def seal(self, wire: dict[str, Any]) -> dict[str, Any]:
        sealed = copy.deepcopy(wire)
        sealed["seal"]["signature"] = "AA=="
        data = signing_input(Certificate.from_wire(sealed))
        sealed["seal"]["signature"] = base64.b64encode(self.sign_bytes(data)).decode()
        return sealed


def base_wire(issuer_code: str = ISSUER_CODE, algorithm: str = SM2_SM3) -> dict[str, Any]:
    return {
        "identifier": identifier.build(TYPE_CODE, issuer_code, "2019000001"),
        "name": "中华人民共和国居民身份证",
        "type_code": TYPE_CODE,
        "number": APPLICANT,
        "issuer": "测试颁发机构",
        "issuer_code": issuer_code,
        "issue_date": "2019-05-01",
        "valid_from": "2019-05-01",
        "valid_to": "2039-05-01",
        "holder": "王测完",
        "holder_code": APPLICANT,
        "holder_code_type": "111",
        "status": "valid",
        "jurisdiction": "420102",
        "surface": {"address": "湖北省武汉市江岸区测试路1号"},
        "seal": {"signer": "测试电子印章", "signed_at": "2019-05-01T09:30:00+08:00", "algorithm": algorithm},
    }


@pytest.fixture(scope="session")
def sm2_signer() -> Signer:
    return Signer(SM2_SM3)


@pytest.fixture(scope="session")
def signers(sm2_signer: Signer) -> dict[str, Signer]:
    return {SM2_SM3: sm2_signer, ECDSA_P256_SHA256: Signer(ECDSA_P256_SHA256), ED25519: Signer(ED25519)}


@pytest.fixture
def trust_store(signers: dict[str, Signer]) -> TrustStore:
    return TrustStore.from_keys(s.key for s in signers.values())


@pytest.fixture
def verify(trust_store: TrustStore) -> Callable[..., Any]:
    from certificates.verify import verify_certificate

    def run(cert: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("trust_store", trust_store)
        kwargs.setdefault("now", NOW)
        kwargs.setdefault("applicant_id_number", APPLICANT)
        return verify_certificate(cert, **kwargs)

    return run


@pytest.fixture(scope="session")
def signer_factory() -> Callable[..., Signer]:
    """Make further test issuers (other keys, other issuer codes)."""
    return Signer
