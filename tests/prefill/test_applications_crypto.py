"""AES-256-GCM of personal values at rest: round trip, tampering, rows swapped, wrong key."""

from __future__ import annotations

import pytest

from prefill.applications.crypto import DecryptionError, KeyFormatError, ValueCipher

KEY = "11" * 32


def test_round_trip_and_fresh_nonces():
    cipher = ValueCipher.from_hex(KEY)
    document = {"name": "王测完", "id_number": "420102198803150137"}
    first = cipher.encrypt_json(document, "app-1")
    second = cipher.encrypt_json(document, "app-1")
    assert first != second  # a random nonce each time
    assert cipher.decrypt_json(first, "app-1") == document
    assert "王测完".encode() not in first and b"420102198803150137" not in first


@pytest.mark.parametrize("position", [0, 1, 12, 13, -1])
def test_a_flipped_bit_anywhere_is_detected(position):
    cipher = ValueCipher.from_hex(KEY)
    blob = bytearray(cipher.encrypt(b"secret", "app-1"))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), "app-1")


def test_a_blob_moved_to_another_row_does_not_decrypt():
    cipher = ValueCipher.from_hex(KEY)
    blob = cipher.encrypt(b"secret", "app-1")
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, "app-2")


def test_another_key_does_not_decrypt():
    blob = ValueCipher.from_hex(KEY).encrypt(b"secret", "app-1")
    with pytest.raises(DecryptionError):
        ValueCipher.from_hex("22" * 32).decrypt(blob, "app-1")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + b"\x00" * 40])
def test_junk_blobs_are_refused(blob):
    with pytest.raises(DecryptionError):
        ValueCipher.from_hex(KEY).decrypt(blob, "app-1")


@pytest.mark.parametrize("key", ["", "00" * 16, "zz" * 32, "00" * 33])
def test_a_malformed_key_is_refused_without_echoing_it(key):
    with pytest.raises(KeyFormatError) as info:
        ValueCipher.from_hex(key)
    assert key not in str(info.value) or key == ""
