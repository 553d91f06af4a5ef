"""Prefill tokens: a signed, expiring statement of which values a prefill verified and locked.

The frontend sends the token back with the submission; the service re-checks every locked value
against it (a changed one is refused, naming the field). The token carries keyed digests of the
locked values, never the values: tokens pass through browsers and proxies that may log them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

ISSUER = "prefill-service"
ALGORITHM = "HS256"  # the service both signs and checks: a shared-key MAC is the right tool


class PrefillTokenError(Exception):
    """The token cannot be used; ``code`` says why (invalid or expired)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class PrefillClaims:
    prefill_id: str
    theme: str
    matters: tuple[str, ...]
    subject_key: str
    locked: Mapping[str, str]  # field code -> keyed digest of its value
    issued_at: int
    expires_at: int


class PrefillTokenSigner:
    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        self._key = key
        self.ttl_seconds = ttl_seconds

    def digest(self, field: str, value: str) -> str:
        return hmac.new(self._key, f"{field}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def issue(
        self,
        *,
        prefill_id: str,
        theme: str,
        matters: list[str],
        subject_key: str,
        locked_values: Mapping[str, str],
        now: int,
    ) -> tuple[str, int]:
        """The token and its expiry (epoch seconds)."""
        expires = now + self.ttl_seconds
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "jti": prefill_id,
            "thm": theme,
            "mtr": list(matters),
            "sbj": subject_key,
            "lck": {code: self.digest(code, value) for code, value in sorted(locked_values.items())},
            "iat": now,
            "exp": expires,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), expires

    def verify(self, token: str, *, now: int) -> PrefillClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "jti", "iss"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise PrefillTokenError("prefill_token_invalid", "the prefill token is not valid") from None
        if int(claims["exp"]) <= now:
            raise PrefillTokenError("prefill_token_expired", "the prefill token has expired; prefill again")
        return PrefillClaims(
            prefill_id=str(claims["jti"]),
            theme=str(claims["thm"]),
            matters=tuple(claims["mtr"]),
            subject_key=str(claims["sbj"]),
            locked=dict(claims["lck"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )

    def changed_locked_fields(self, claims: PrefillClaims, values: Mapping[str, str | None]) -> list[str]:
        """Locked fields whose submitted value differs from the verified one (or is missing)."""
        changed = []
        for code, expected in claims.locked.items():
            value = values.get(code)
            if value is None or not hmac.compare_digest(self.digest(code, value), expected):
                changed.append(code)
        return changed
