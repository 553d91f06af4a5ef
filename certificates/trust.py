"""Trust store of issuer public keys, and the signature check for each supported algorithm.

Algorithms (the ``seal.algorithm`` values):

- ``SM2-SM3`` — SM2 with SM3 and the default user ID ``1234567812345678`` (GB/T 32918, GM/T 0009),
  DER-encoded (r, s); the national algorithm for certificate seals. Checked with tongsuopy, whose
  EVP digest-verify applies the default SM2 ID (cross-checked against gmssl in the tests).
- ``ECDSA-P256-SHA256`` — ECDSA over P-256 with SHA-256, DER-encoded (cryptography).
- ``Ed25519`` — raw 64-byte signature (cryptography).

A key is pinned to one algorithm: a seal naming another algorithm is not checked with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes as crypto_hashes
from cryptography.hazmat.primitives import serialization as crypto_serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tongsuopy.crypto import hashes as tongsuo_hashes
from tongsuopy.crypto import serialization as tongsuo_serialization
from tongsuopy.crypto.asymciphers import ec as tongsuo_ec

from certificates.errors import TrustStoreError

SM2_SM3: Final = "SM2-SM3"
ECDSA_P256_SHA256: Final = "ECDSA-P256-SHA256"
ED25519: Final = "Ed25519"
SUPPORTED_ALGORITHMS: Final = frozenset({SM2_SM3, ECDSA_P256_SHA256, ED25519})


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One trusted public key of one issuer, pinned to one signature algorithm."""

    issuer_code: str
    algorithm: str
    public_key: Any = field(repr=False, compare=False)
    key_id: str
    """SHA-256 fingerprint (hex) of the SubjectPublicKeyInfo DER."""
    issuer: str = ""
    public_key_pem: str = field(default="", repr=False)

    @classmethod
    def from_pem(cls, issuer_code: str, pem: str | bytes, algorithm: str, issuer: str = "") -> IssuerKey:
        """Load a PEM SubjectPublicKeyInfo for ``algorithm``; raise :class:`TrustStoreError` if it is not
        a key of that algorithm."""
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise TrustStoreError(f"unsupported algorithm {algorithm!r}")
        raw = pem.encode("ascii") if isinstance(pem, str) else pem
        try:
            if algorithm == SM2_SM3:
                key: Any = tongsuo_serialization.load_pem_public_key(raw)
                if not isinstance(key, tongsuo_ec.EllipticCurvePublicKey) or key.curve.name != "SM2":
                    raise TrustStoreError("not an SM2 public key")
                der = key.public_bytes(
                    tongsuo_serialization.Encoding.DER,
                    tongsuo_serialization.PublicFormat.SubjectPublicKeyInfo,
                )
            else:
                key = crypto_serialization.load_pem_public_key(raw)
                if algorithm == ECDSA_P256_SHA256 and not (
                    isinstance(key, crypto_ec.EllipticCurvePublicKey)
                    and isinstance(key.curve, crypto_ec.SECP256R1)
                ):
                    raise TrustStoreError("not a P-256 public key")
                if algorithm == ED25519 and not isinstance(key, Ed25519PublicKey):
                    raise TrustStoreError("not an Ed25519 public key")
                der = key.public_bytes(
                    crypto_serialization.Encoding.DER,
                    crypto_serialization.PublicFormat.SubjectPublicKeyInfo,
                )
        except TrustStoreError:
            raise
        except Exception as exc:  # any parser failure of either library
            raise TrustStoreError(f"cannot load the {algorithm} public key: {type(exc).__name__}") from None
        return cls(
            issuer_code=issuer_code,
            algorithm=algorithm,
            public_key=key,
            key_id=hashlib.sha256(der).hexdigest(),
            issuer=issuer,
            public_key_pem=raw.decode("ascii"),
        )

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's signature over ``data``; False on any malformed input."""
        try:
            if self.algorithm == SM2_SM3:
                self.public_key.verify(signature, data, tongsuo_ec.ECDSA(tongsuo_hashes.SM3()))
            elif self.algorithm == ECDSA_P256_SHA256:
                self.public_key.verify(signature, data, crypto_ec.ECDSA(crypto_hashes.SHA256()))
            elif self.algorithm == ED25519:
                self.public_key.verify(signature, data)
            else:
                return False
        except InvalidSignature:
            return False
        except Exception:  # truncated DER etc. surface as library-specific errors
            return False
        return True


@dataclass(frozen=True)
class TrustStore:
    """Issuer code → trusted keys. Immutable; build a new one to rotate keys."""

    keys: Mapping[str, tuple[IssuerKey, ...]] = field(default_factory=dict)
    rejected: tuple[tuple[str, str], ...] = ()
    """(issuer code, reason) of published entries that could not be loaded."""

    @classmethod
    def from_keys(cls, keys: Iterable[IssuerKey]) -> TrustStore:
        grouped: dict[str, list[IssuerKey]] = {}
        for key in keys:
            grouped.setdefault(key.issuer_code, []).append(key)
        return cls({code: tuple(items) for code, items in grouped.items()})

    @classmethod
    def from_published(cls, payload: object) -> TrustStore:
        """Build from the library's published issuer keys
        (``{"issuers": [{"issuer_code", "issuer", "algorithm", "public_key_pem"}, ...]}``).

        Entries that cannot be loaded are skipped and listed in ``rejected``; nothing raises.
        """
        entries = payload.get("issuers") if isinstance(payload, Mapping) else None
        if not isinstance(entries, list):
            return cls(rejected=(("", "payload has no issuers list"),))
        loaded: list[IssuerKey] = []
        rejected: list[tuple[str, str]] = []
        for entry in entries:
            code = entry.get("issuer_code") if isinstance(entry, Mapping) else None
            if not isinstance(entry, Mapping) or not isinstance(code, str):
                rejected.append(("", "entry without issuer_code"))
                continue
            try:
                loaded.append(
                    IssuerKey.from_pem(
                        code,
                        str(entry.get("public_key_pem", "")),
                        str(entry.get("algorithm", "")),
                        issuer=str(entry.get("issuer", "")),
                    )
                )
            except TrustStoreError as exc:
                rejected.append((code, str(exc)))
        store = cls.from_keys(loaded)
        return cls(store.keys, tuple(rejected))

    def keys_for(self, issuer_code: str) -> tuple[IssuerKey, ...]:
        return self.keys.get(issuer_code, ())

    def has_key(self, issuer_code: str, key_id: str) -> bool:
        return any(key.key_id == key_id for key in self.keys_for(issuer_code))

    def __contains__(self, issuer_code: object) -> bool:
        return issuer_code in self.keys
