"""Personal values at rest: AES-256-GCM with the key from settings (``data_encryption_key``).

Each blob is ``version (1 byte) || nonce (12 bytes) || ciphertext+tag``. The nonce is random (96 bits,
NIST SP 800-38D §8.2.2: fine far below 2^32 messages per key). The associated data binds a blob to its
row (the application id, and the form for a delivery), so a ciphertext copied into another row fails
to decrypt instead of silently showing another person's data there.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A blob does not decrypt under this key and associated data: tampered, moved, or another key."""

    code = "decryption_failed"


class KeyFormatError(ValueError):
    """The configured key is not 64 hex characters (32 bytes)."""


class ValueCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KeyFormatError("the data encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    @classmethod
    def from_hex(cls, hex_key: str) -> ValueCipher:
        try:
            key = bytes.fromhex(hex_key)
        except ValueError:
            raise KeyFormatError("PREFILL_DATA_ENCRYPTION_KEY must be 64 hex characters") from None
        if len(key) != 32:
            raise KeyFormatError("PREFILL_DATA_ENCRYPTION_KEY must be 64 hex characters")
        return cls(key)

    def encrypt(self, plaintext: bytes, associated_data: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, associated_data.encode())
        return bytes([FORMAT_VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, associated_data: str) -> bytes:
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise DecryptionError("not a value blob of a known format")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, associated_data.encode())
        except InvalidTag:
            raise DecryptionError("the blob does not decrypt for this row") from None

    def encrypt_json(self, document: Any, associated_data: str) -> bytes:
        plaintext = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return self.encrypt(plaintext.encode(), associated_data)

    def decrypt_json(self, blob: bytes, associated_data: str) -> Any:
        return json.loads(self.decrypt(blob, associated_data))
