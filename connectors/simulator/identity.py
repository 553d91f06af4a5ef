"""Simulated provincial identity platform: issues applicant assertions (EdDSA JWTs) and its JWKS.

The signing key is derived from ``SimulatorConfig.identity_seed`` (simulated mode only), so that the
service can verify assertions with the same public key without a network round trip.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from connectors.errors import InvalidIdNumber
from connectors.idnumber import validate_id_number
from connectors.simulator.config import SimulatorConfig, SimulatorState
from connectors.simulator.personas import PERSONAS


def identity_private_key(config: SimulatorConfig) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(config.identity_seed).digest())


def identity_public_key(config: SimulatorConfig) -> Ed25519PublicKey:
    return identity_private_key(config).public_key()


def identity_key_id(config: SimulatorConfig) -> str:
    raw = identity_public_key(config).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def identity_jwks(config: SimulatorConfig) -> dict[str, Any]:
    raw = identity_public_key(config).public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": x,
                "kid": identity_key_id(config),
                "alg": "EdDSA",
                "use": "sig",
            }
        ]
    }


def issue_assertion(
    config: SimulatorConfig, id_number: str, *, now: float | None = None, audience: str | None = None
) -> str:
    """An applicant assertion for ``id_number`` (sub), valid ``assertion_ttl_s`` from ``now``."""
    iat = int(now if now is not None else config.clock())
    claims = {
        "iss": config.identity_issuer,
        "aud": audience or config.identity_audience,
        "sub": validate_id_number(id_number),
        "iat": iat,
        "nbf": iat,
        "exp": iat + config.assertion_ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, identity_private_key(config), algorithm="EdDSA", headers={"kid": identity_key_id(config)}
    )


class AssertionRequest(BaseModel):
    persona: str | None = None
    id_number: str | None = None
    audience: str | None = None


router = APIRouter(prefix="/idp/v1", tags=["identity platform (simulated)"])


@router.post("/assertions", summary="Issue an applicant assertion for a persona or ID number")
async def create_assertion(body: AssertionRequest, request: Request) -> dict[str, Any]:
    state: SimulatorState = request.app.state.simulator
    if body.persona is not None:
        persona = PERSONAS.get(body.persona)
        if persona is None:
            raise HTTPException(404, detail=f"unknown persona; known: {', '.join(PERSONAS)}")
        id_number = persona.id_number
    elif body.id_number is not None:
        id_number = body.id_number
    else:
        raise HTTPException(422, detail="give persona or id_number")
    try:
        token = issue_assertion(state.config, id_number, audience=body.audience)
    except InvalidIdNumber as exc:
        raise HTTPException(422, detail=str(exc)) from None
    claims = jwt.decode(token, options={"verify_signature": False})
    return {
        "persona": body.persona,
        "id_number": claims["sub"],
        "assertion": token,
        "expires_at": claims["exp"],
    }


@router.get("/jwks", summary="Public keys that verify applicant assertions")
async def jwks(request: Request) -> dict[str, Any]:
    state: SimulatorState = request.app.state.simulator
    return identity_jwks(state.config)
