"""Keys derived from settings, in one place for the service and the CLI."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prefill.settings import Settings


def audit_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The Ed25519 key that signs audit checkpoints, from its configured seed."""
    seed = hashlib.sha256(settings.audit_signing_seed.get_secret_value().encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)
