"""Applicant assertions, checked with the simulated identity platform's real keys and a fixed clock."""

from __future__ import annotations

import json
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key as generate_rsa_key
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import (
    identity_jwks,
    identity_key_id,
    identity_private_key,
    issue_assertion,
)
from connectors.simulator.personas import PERSONAS
from prefill.auth.assertions import (
    CLOCK_SKEW_S,
    AssertionKeyError,
    AssertionVerifier,
    load_verification_keys,
)
from prefill.auth.errors import AssertionExpiredError, AssertionInvalidError, AssertionReplayedError
from prefill.auth.runtime import build_verifier
from prefill.settings import Settings

NOW = 1_800_000_000.0
MAX_AGE = 900
ID_NUMBER = PERSONAS["complete"].id_number


@pytest.fixture
def config() -> SimulatorConfig:
    return SimulatorConfig(secrets={}, clock=lambda: NOW)


@pytest.fixture
def verifier(config: SimulatorConfig) -> AssertionVerifier:
    return AssertionVerifier(
        load_verification_keys(json.dumps(identity_jwks(config))),
        issuer=config.identity_issuer,
        audience=config.identity_audience,
        max_age_s=MAX_AGE,
        clock=lambda: NOW,
    )


def _claims(config: SimulatorConfig, **changes: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "iss": config.identity_issuer,
        "aud": config.identity_audience,
        "sub": ID_NUMBER,
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(config: SimulatorConfig, claims: dict[str, object]) -> str:
    return jwt.encode(
        claims, identity_private_key(config), algorithm="EdDSA", headers={"kid": identity_key_id(config)}
    )


def test_a_simulator_assertion_verifies_and_names_its_subject(config, verifier):
    verified = verifier.verify(issue_assertion(config, ID_NUMBER))
    assert verified.subject == ID_NUMBER
    assert verified.issuer == config.identity_issuer
    assert ID_NUMBER not in repr(verified)


def test_the_service_verifies_simulator_assertions_by_default(config):
    settings = Settings()  # simulated mode, no assertion settings: the simulator's platform
    assert build_verifier(settings, clock=lambda: NOW).verify(issue_assertion(config, ID_NUMBER))


def test_a_replayed_assertion_is_refused(config, verifier):
    token = issue_assertion(config, ID_NUMBER)
    verifier.verify(token)
    with pytest.raises(AssertionReplayedError):
        verifier.verify(token)


def test_checking_without_consuming_leaves_the_assertion_usable(config, verifier):
    token = issue_assertion(config, ID_NUMBER)
    checked = verifier.verify(token, consume=False)
    verifier.consume(checked)
    with pytest.raises(AssertionReplayedError):
        verifier.consume(checked)


def test_the_replay_window_is_bounded_and_fails_closed(config):
    verifier = AssertionVerifier(
        load_verification_keys(json.dumps(identity_jwks(config))),
        issuer=config.identity_issuer,
        audience=config.identity_audience,
        max_age_s=MAX_AGE,
        clock=lambda: NOW,
        replay_cache_size=2,
    )
    verifier.verify(issue_assertion(config, ID_NUMBER))
    verifier.verify(issue_assertion(config, ID_NUMBER))
    with pytest.raises(Exception) as caught:
        verifier.verify(issue_assertion(config, ID_NUMBER))
    assert getattr(caught.value, "status", None) == 503


def test_a_bad_signature_is_refused(config, verifier):
    other = SimulatorConfig(secrets={}, identity_seed=b"someone else's identity platform")
    forged = jwt.encode(
        _claims(config),
        identity_private_key(other),
        algorithm="EdDSA",
        headers={"kid": identity_key_id(config)},
    )
    with pytest.raises(AssertionInvalidError, match="signature"):
        verifier.verify(forged)
    with pytest.raises(AssertionInvalidError, match="key id"):
        verifier.verify(issue_assertion(other, ID_NUMBER))


def test_a_tampered_payload_is_refused(config, verifier):
    header, _payload, signature = issue_assertion(config, ID_NUMBER).split(".")
    other_subject = PERSONAS["never-insured"].id_number
    payload = jwt.utils.base64url_encode(json.dumps(_claims(config, sub=other_subject)).encode()).decode()
    with pytest.raises(AssertionInvalidError):
        verifier.verify(f"{header}.{payload}.{signature}")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iss": "https://idp.elsewhere.example"}, "issuer"),
        ({"aud": "another-service"}, "audience"),
        ({"jti": None}, "jti"),
        ({"nbf": None}, "nbf"),
        ({"sub": None}, "sub"),
        ({"sub": "420102198803150138"}, "ID number"),  # wrong check digit
        ({"sub": "not an id number"}, "ID number"),
        ({"nbf": int(NOW) + CLOCK_SKEW_S + 60}, "not valid yet"),
        ({"iat": int(NOW) + CLOCK_SKEW_S + 60}, "future"),
        ({"jti": "short"}, "jti"),
        ({"exp": "tomorrow"}, "exp"),
    ],
)
def test_claims_are_checked(config, verifier, changes, message):
    with pytest.raises(AssertionInvalidError, match=message) as caught:
        verifier.verify(_sign(config, _claims(config, **changes)))
    # A refused subject is never echoed.
    assert "420102198803150138" not in caught.value.detail


def test_an_expired_assertion_is_refused(config, verifier):
    token = issue_assertion(config, ID_NUMBER, now=NOW - 600 - CLOCK_SKEW_S - 1)
    with pytest.raises(AssertionExpiredError, match="expired"):
        verifier.verify(token)


def test_an_assertion_older_than_the_maximum_age_is_refused(config, verifier):
    old = int(NOW) - MAX_AGE - CLOCK_SKEW_S - 1
    token = _sign(config, _claims(config, iat=old, nbf=old, exp=int(NOW) + 3600))
    with pytest.raises(AssertionExpiredError, match="maximum age"):
        verifier.verify(token)


def test_clock_skew_is_tolerated(config, verifier):
    token = _sign(config, _claims(config, iat=int(NOW) + 10, nbf=int(NOW) + 10))
    assert verifier.verify(token).subject == ID_NUMBER


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
def test_symmetric_and_unsigned_algorithms_are_refused(config, verifier, algorithm):
    public_jwk = identity_jwks(config)["keys"][0]
    key = None if algorithm == "none" else public_jwk["x"]  # the public key as an HMAC secret
    token = jwt.encode(_claims(config), key, algorithm=algorithm, headers={"kid": public_jwk["kid"]})
    with pytest.raises(AssertionInvalidError, match="algorithm"):
        verifier.verify(token)


@pytest.mark.parametrize(
    "junk", ["", "abc", "a.b.c", "x" * 9000, "eyJhbGciOiJFZERTQSJ9..", "\u4e2d.\u6587.x"]
)
def test_junk_is_refused(verifier, junk):
    with pytest.raises(AssertionInvalidError):
        verifier.verify(junk)


def test_es256_keys_from_pem(config):
    private = generate_private_key(SECP256R1())
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    verifier = AssertionVerifier(
        load_verification_keys(pem),
        issuer="https://idp",
        audience="svc",
        max_age_s=MAX_AGE,
        clock=lambda: NOW,
    )
    claims = _claims(config, iss="https://idp", aud="svc")
    assert verifier.verify(jwt.encode(claims, private, algorithm="ES256")).subject == ID_NUMBER


def test_keys_can_come_from_a_file(config, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(identity_jwks(config)), encoding="utf-8")
    assert load_verification_keys(str(path))[0].algorithm == "EdDSA"


def test_unusable_keys_are_refused_naming_the_setting():
    rsa = generate_rsa_key(public_exponent=65537, key_size=2048).public_key()
    rsa_pem = rsa.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    for text in ["", "{not json", '{"keys": []}', rsa_pem, "/no/such/file"]:
        with pytest.raises(AssertionKeyError, match="assertion_keys"):
            load_verification_keys(text)
