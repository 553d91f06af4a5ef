"""Applicant assertions: JWTs from the provincial identity platform whose subject is the applicant's ID
number. The subject of a prefill comes from here and nowhere else.

Checks, in order: size, algorithm (EdDSA or ES256 only — never ``none`` or an HMAC algorithm, which would
let a public key act as a shared secret), key (by ``kid``), signature, issuer, audience, required claims,
not-before, issued-at, expiry, maximum age from ``iat``, the subject's ID number, and finally that the
``jti`` was not seen within the replay window (an assertion is good for one use). The clock is injected.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cachetools import TTLCache
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from connectors.errors import InvalidIdNumber
from connectors.idnumber import validate_id_number
from prefill.auth.errors import AssertionExpiredError, AssertionInvalidError, AssertionReplayedError
from prefill.errors import UnavailableError

__all__ = [
    "ALGORITHMS",
    "AssertionKeyError",
    "AssertionVerifier",
    "VerificationKey",
    "VerifiedAssertion",
    "load_verification_keys",
]

ALGORITHMS = ("EdDSA", "ES256")
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"]
CLOCK_SKEW_S = 30  # tolerated difference between the identity platform's clock and ours
MAX_TOKEN_CHARS = 8192
REPLAY_CACHE_SIZE = 200_000
_JTI = re.compile(r"^[\x21-\x7e]{8,128}$")
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class AssertionKeyError(ValueError):
    """The configured verification keys are unusable (names the setting, never key material)."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str | None
    algorithm: str
    key: Any = field(repr=False)


def _algorithm_of(key: Any) -> str:
    if isinstance(key, Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1):
        return "ES256"
    raise AssertionKeyError("assertion_keys: only Ed25519 (EdDSA) and P-256 (ES256) public keys are accepted")


def load_verification_keys(text: str) -> list[VerificationKey]:
    """Keys from a JWKS document, PEM public keys, or a path to a file holding either."""
    text = text.strip()
    if not text:
        raise AssertionKeyError("assertion_keys is empty")
    if text.startswith("{"):
        try:
            document = json.loads(text)
            jwks = document.get("keys", [document])
            keys = []
            for jwk in jwks:
                parsed = jwt.PyJWK(jwk)
                algorithm = _algorithm_of(parsed.key)
                if jwk.get("alg") not in (None, algorithm):
                    raise AssertionKeyError(f"assertion_keys: key {jwk.get('kid')!r} declares another alg")
                keys.append(VerificationKey(jwk.get("kid"), algorithm, parsed.key))
        except (ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
            if isinstance(exc, AssertionKeyError):
                raise
            raise AssertionKeyError(f"assertion_keys: not a usable JWKS ({type(exc).__name__})") from None
        if not keys:
            raise AssertionKeyError("assertion_keys: the JWKS has no keys")
        return keys
    if text.startswith("-----BEGIN"):
        blocks = _PEM_BLOCK.findall(text)
        if not blocks:
            raise AssertionKeyError("assertion_keys: no PEM public key found")
        keys = []
        for block in blocks:
            try:
                key = load_pem_public_key(block.encode())
            except ValueError:
                raise AssertionKeyError("assertion_keys: a PEM block is not a public key") from None
            keys.append(VerificationKey(None, _algorithm_of(key), key))
        return keys
    path = Path(text)
    if not path.is_file():
        raise AssertionKeyError("assertion_keys: neither JWKS, PEM, nor the path of a readable file")
    return load_verification_keys(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class VerifiedAssertion:
    """A checked assertion. ``subject`` is the applicant's ID number: keep it out of logs and reprs."""

    subject: str = field(repr=False)
    issuer: str
    jti: str
    issued_at: int
    expires_at: int


def _integer_claim(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssertionInvalidError(f"claim {name} must be a number")
    return int(value)


class AssertionVerifier:
    """Verifies applicant assertions against the configured keys; remembers used ``jti`` values."""

    def __init__(
        self,
        keys: Sequence[VerificationKey],
        *,
        issuer: str,
        audience: str,
        max_age_s: int,
        clock: Callable[[], float] = time.time,
        replay_cache_size: int = REPLAY_CACHE_SIZE,
    ) -> None:
        if not keys:
            raise AssertionKeyError("assertion_keys: no keys")
        if not issuer or not audience:
            raise AssertionKeyError("assertion_issuer and assertion_audience are required")
        self.keys = list(keys)
        self.issuer = issuer
        self.audience = audience
        self.max_age_s = max_age_s
        self.clock = clock
        # An assertion is refused once older than max_age (+ skew) after its iat, and iat may be up to
        # one skew ahead of us: remembering a jti that long covers its whole usable life.
        self._seen: TTLCache[tuple[str, str], bool] = TTLCache(
            maxsize=replay_cache_size, ttl=max_age_s + 2 * CLOCK_SKEW_S, timer=clock
        )
        self._lock = threading.Lock()

    def _candidates(self, header: dict[str, Any]) -> list[VerificationKey]:
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AssertionInvalidError("the signature algorithm is not accepted")
        kid = header.get("kid")
        keys = [k for k in self.keys if k.algorithm == algorithm and (kid is None or k.kid in (None, kid))]
        if not keys:
            raise AssertionInvalidError("no configured key matches the assertion's key id and algorithm")
        return keys

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AssertionInvalidError("the assertion is not a well-formed JWT") from None
        options: Any = {
            "require": REQUIRED_CLAIMS,
            # Times are checked below against the injected clock.
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
        }
        for candidate in self._candidates(header):
            try:
                return jwt.decode(
                    token,
                    candidate.key,
                    algorithms=[candidate.algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    options=options,
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidAudienceError:
                raise AssertionInvalidError("the assertion is for another audience") from None
            except jwt.InvalidIssuerError:
                raise AssertionInvalidError("the assertion is from an unknown issuer") from None
            except jwt.MissingRequiredClaimError as exc:
                raise AssertionInvalidError(f"the assertion lacks the {exc.claim} claim") from None
            except jwt.PyJWTError:
                raise AssertionInvalidError("the assertion could not be decoded") from None
        raise AssertionInvalidError("the assertion's signature does not verify")

    def verify(self, token: str, *, consume: bool = True) -> VerifiedAssertion:
        """Check ``token``; with ``consume`` (the default) also use up its ``jti``."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise AssertionInvalidError("the assertion is empty or too long")
        claims = self._decode(token)
        now = self.clock()
        issued_at = _integer_claim(claims, "iat")
        not_before = _integer_claim(claims, "nbf")
        expires_at = _integer_claim(claims, "exp")
        if not_before > now + CLOCK_SKEW_S:
            raise AssertionInvalidError("the assertion is not valid yet")
        if issued_at > now + CLOCK_SKEW_S:
            raise AssertionInvalidError("the assertion was issued in the future")
        if expires_at <= now - CLOCK_SKEW_S:
            raise AssertionExpiredError("the assertion has expired")
        if now - issued_at > self.max_age_s + CLOCK_SKEW_S:
            raise AssertionExpiredError("the assertion is older than the maximum age")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not _JTI.match(jti):
            raise AssertionInvalidError("claim jti must be 8 to 128 printable characters")
        try:
            today = datetime.fromtimestamp(now, UTC).date()
            subject = validate_id_number(claims.get("sub"), today=today)
        except InvalidIdNumber:
            # The reason alone could narrow down the number; say only that it is not one.
            raise AssertionInvalidError("the assertion's subject is not a valid ID number") from None
        verified = VerifiedAssertion(
            subject=subject, issuer=self.issuer, jti=jti, issued_at=issued_at, expires_at=expires_at
        )
        if consume:
            self.consume(verified)
        return verified

    def consume(self, assertion: VerifiedAssertion) -> None:
        """Use up the assertion's ``jti``: a second use within the replay window is refused."""
        key = (assertion.issuer, assertion.jti)
        with self._lock:
            if key in self._seen:
                raise AssertionReplayedError("the assertion was already used")
            if len(self._seen) >= (self._seen.maxsize or 0):
                self._seen.expire()
                if len(self._seen) >= (self._seen.maxsize or 0):
                    # Evicting a live jti would reopen it for replay: refuse instead.
                    raise UnavailableError(
                        "too many assertions in the replay window; try again shortly",
                        headers={"Retry-After": str(CLOCK_SKEW_S)},
                    )
            self._seen[key] = True
