"""Signed requests to department sources (DESIGN §6).

String to sign, one item per line: method, path (with query), timestamp, nonce, hex digest of the
body. The body digest uses the signature's hash (SHA-256 for HMAC-SHA256, SM3 for HMAC-SM3); the
signature is base64 of the HMAC over the UTF-8 string to sign.

>>> h = sign_request("POST", "/x", b"{}", app_key="k", secret="s", method="HMAC-SHA256",
...                  timestamp=1700000000, nonce="n1")
>>> h["X-App-Key"], h["X-Timestamp"], h["X-Signature-Method"]
('k', '1700000000', 'HMAC-SHA256')
>>> verify_signature("POST", "/x", b"{}", secret="s", method="HMAC-SHA256", timestamp="1700000000",
...                  nonce="n1", signature=h["X-Signature"])
True
"""

from __future__ import annotations

import base64
import hmac as std_hmac
import secrets
from typing import Final, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

SignatureMethod = Literal["HMAC-SHA256", "HMAC-SM3"]
SIGNATURE_METHODS: Final[tuple[str, ...]] = ("HMAC-SHA256", "HMAC-SM3")

HEADER_APP_KEY: Final = "X-App-Key"
HEADER_TIMESTAMP: Final = "X-Timestamp"
HEADER_NONCE: Final = "X-Nonce"
HEADER_SIGNATURE: Final = "X-Signature"
HEADER_SIGNATURE_METHOD: Final = "X-Signature-Method"


def _hash_algorithm(method: str) -> hashes.HashAlgorithm:
    if method == "HMAC-SHA256":
        return hashes.SHA256()
    if method == "HMAC-SM3":
        # cryptography ships SM3 (OpenSSL backend); tongsuopy would be the fallback, but the
        # declared cryptography>=43 always has it, so it is not imported here.
        return hashes.SM3()
    raise ValueError(f"unsupported signature method {method!r}")


def body_digest(body: bytes, method: str) -> str:
    h = hashes.Hash(_hash_algorithm(method))
    h.update(body)
    return h.finalize().hex()


def string_to_sign(
    http_method: str, path: str, timestamp: str, nonce: str, body: bytes, method: str
) -> bytes:
    return "\n".join((http_method.upper(), path, timestamp, nonce, body_digest(body, method))).encode()


def compute_signature(
    http_method: str, path: str, body: bytes, *, secret: str, method: str, timestamp: str, nonce: str
) -> str:
    mac = crypto_hmac.HMAC(secret.encode(), _hash_algorithm(method))
    mac.update(string_to_sign(http_method, path, timestamp, nonce, body, method))
    return base64.b64encode(mac.finalize()).decode()


def new_nonce() -> str:
    return secrets.token_hex(16)


def sign_request(
    http_method: str,
    path: str,
    body: bytes,
    *,
    app_key: str,
    secret: str,
    method: str = "HMAC-SHA256",
    timestamp: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers that sign one request. ``timestamp`` is epoch seconds from the caller's clock."""
    ts = str(int(timestamp))
    nonce = nonce or new_nonce()
    signature = compute_signature(
        http_method, path, body, secret=secret, method=method, timestamp=ts, nonce=nonce
    )
    return {
        HEADER_APP_KEY: app_key,
        HEADER_TIMESTAMP: ts,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature,
        HEADER_SIGNATURE_METHOD: method,
    }


def verify_signature(
    http_method: str,
    path: str,
    body: bytes,
    *,
    secret: str,
    method: str,
    timestamp: str,
    nonce: str,
    signature: str,
) -> bool:
    """Constant-time check of a signature (freshness and replay are the verifier's policy)."""
    if method not in SIGNATURE_METHODS:
        return False
    expected = compute_signature(
        http_method, path, body, secret=secret, method=method, timestamp=timestamp, nonce=nonce
    )
    return std_hmac.compare_digest(expected, signature)
