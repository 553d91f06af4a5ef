"""Request-signature check of the simulated sources: unsigned, stale, replayed or wrong → 401."""

from __future__ import annotations

from fastapi import HTTPException, Request

from connectors.signing import (
    HEADER_APP_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_SIGNATURE_METHOD,
    HEADER_TIMESTAMP,
    verify_signature,
)
from connectors.simulator.config import SimulatorState


class SignatureRejected(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(status_code=401, detail=reason)
        self.reason = reason


async def check_signature(request: Request) -> str:
    """FastAPI dependency: verify the request's signature; return the caller's app key."""
    state: SimulatorState = request.app.state.simulator
    config = state.config
    headers = request.headers
    app_key = headers.get(HEADER_APP_KEY)
    if not config.require_signatures:
        return app_key or ""
    timestamp = headers.get(HEADER_TIMESTAMP)
    nonce = headers.get(HEADER_NONCE)
    signature = headers.get(HEADER_SIGNATURE)
    method = headers.get(HEADER_SIGNATURE_METHOD, "HMAC-SHA256")
    if not (app_key and timestamp and nonce and signature):
        raise SignatureRejected("unsigned request")
    secret = config.secrets.get(app_key)
    if secret is None:
        raise SignatureRejected("unknown app key")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureRejected("malformed timestamp") from None
    if abs(config.clock() - ts) > config.signature_max_age_s:
        raise SignatureRejected("stale timestamp")
    body = await request.body()
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not verify_signature(
        request.method,
        path,
        body,
        secret=secret,
        method=method,
        timestamp=timestamp,
        nonce=nonce,
        signature=signature,
    ):
        raise SignatureRejected("bad signature")
    key = (app_key, nonce)
    if key in state.seen_nonces:
        raise SignatureRejected("replayed nonce")
    state.seen_nonces[key] = True
    return app_key
