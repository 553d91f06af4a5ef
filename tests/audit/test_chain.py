import base64
import doctest
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization

import audit.chain
from audit.chain import (
    GENESIS_HASH,
    ChainVerifier,
    canonical_json,
    checkpoint_signature_valid,
    format_time,
    generate_signing_key,
    key_id,
    load_public_key,
    load_signing_key,
    parse_time,
    public_key_bytes,
    record_hash,
    sign_checkpoint,
)


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": ["张", None]}) == '{"a":["张",null],"b":1}'.encode()


def test_time_has_one_textual_form():
    aware = datetime(2026, 3, 1, 17, 0, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    assert format_time(aware) == "2026-03-01T09:00:00.000005Z"
    assert format_time(aware.astimezone(UTC).replace(tzinfo=None)) == "2026-03-01T09:00:00.000005Z"
    assert parse_time(format_time(aware)) == aware


def test_record_hash_links_previous_hash():
    document = {"seq": 1, "x": "y"}
    first = record_hash(GENESIS_HASH, document)
    assert first != record_hash("1" * 64, document)
    assert first != record_hash(GENESIS_HASH, {"seq": 1, "x": "z"})
    assert len(first) == 64


def test_checkpoint_signatures():
    key = generate_signing_key()
    checkpoint = {"seq": 5, "head_hash": "ab" * 32, "time": "2026-03-01T09:00:00.000000Z"}
    checkpoint["signature"] = sign_checkpoint(key, 5, checkpoint["head_hash"], checkpoint["time"])
    assert checkpoint_signature_valid(key.public_key(), checkpoint)
    assert not checkpoint_signature_valid(generate_signing_key().public_key(), checkpoint)
    assert not checkpoint_signature_valid(key.public_key(), {**checkpoint, "seq": 4})
    assert not checkpoint_signature_valid(key.public_key(), {**checkpoint, "signature": "!!"})


def test_keys_load_from_raw_base64_and_pem():
    key = generate_signing_key()
    raw = public_key_bytes(key)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for form in (raw, base64.b64encode(raw).decode(), pem, pem.decode()):
        assert key_id(load_public_key(form)) == key_id(key)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert key_id(load_signing_key(private_pem)) == key_id(key)
    with pytest.raises(ValueError):
        load_public_key("not a key")


def test_empty_log_verifies():
    result = ChainVerifier([]).result()
    assert result.ok and result.records == 0 and result.first_bad_seq is None


def test_unknown_key_checkpoint_fails():
    key = generate_signing_key()
    checkpoint = {"id": 1, "seq": 0, "head_hash": GENESIS_HASH, "time": "2026-03-01T09:00:00.000000Z"}
    checkpoint["key_id"] = key_id(key)
    checkpoint["signature"] = sign_checkpoint(key, 0, GENESIS_HASH, checkpoint["time"])
    verifier = ChainVerifier([generate_signing_key().public_key()])
    verifier.add_checkpoint(checkpoint)
    assert not verifier.result().ok
    trusting = ChainVerifier([key.public_key()])
    trusting.add_checkpoint(checkpoint)
    assert trusting.result().ok


def test_module_doctests():
    assert doctest.testmod(audit.chain).failed == 0
