import base64
from datetime import UTC, datetime

import pytest

from certificates import identifier
from certificates.model import Certificate, content_hash
from certificates.trust import ECDSA_P256_SHA256, ED25519, SM2_SM3, IssuerKey, TrustStore
from certificates.verify import ReasonCode, VerificationCache, verify_certificate

# Same values as conftest.py (pytest's importlib mode does not let tests import conftest).
ISSUER_CODE = "11420100MB0000001C"
APPLICANT = "420102198803150137"
NOW = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("algorithm", [SM2_SM3, ECDSA_P256_SHA256, ED25519])
def test_a_sealed_certificate_verifies_with_each_supported_algorithm(signers, verify, algorithm):
    wire = signers[algorithm].certificate()
    result = verify(wire)
    assert result.verified, result
    assert result.reason_code is ReasonCode.VERIFIED
    assert result.identifier == wire["identifier"]
    assert result.content_hash == content_hash(Certificate.from_wire(wire))
    assert result.key_id == signers[algorithm].key.key_id
    assert "核验通过" in result.reason and "verified" in result.reason


def test_parsed_certificate_and_wire_form_give_the_same_result(sm2_signer, verify):
    wire = sm2_signer.certificate()
    assert verify(Certificate.from_wire(wire)) == verify(wire)


@pytest.mark.parametrize(
    ("field", "value"),
    [("holder", "王测改"), ("valid_to", "2049-05-01"), ("surface", {"address": "别处"}), ("number", "X")],
)
def test_any_change_to_signed_data_breaks_the_seal(sm2_signer, verify, field, value):
    wire = sm2_signer.certificate()
    wire[field] = value
    result = verify(wire)
    assert not result.verified
    assert result.reason_code is ReasonCode.BAD_SIGNATURE


def test_changing_the_seal_algorithm_name_is_not_a_downgrade(signers, verify):
    wire = signers[SM2_SM3].certificate()
    wire["seal"]["algorithm"] = ECDSA_P256_SHA256  # an SM2 seal relabelled: the issuer's P-256 key
    assert verify(wire).reason_code is ReasonCode.BAD_SIGNATURE  # is tried, and fails


def test_status_is_not_signed_so_the_library_can_revoke(sm2_signer, verify):
    wire = sm2_signer.certificate()
    wire["status"] = "revoked"
    assert verify(wire).reason_code is ReasonCode.REVOKED
    wire["status"] = "cancelled"
    assert verify(wire).reason_code is ReasonCode.CANCELLED
    wire["status"] = "suspended?"
    result = verify(wire)
    assert result.reason_code is ReasonCode.UNKNOWN_STATUS and not result.verified


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (datetime(2019, 4, 30, 15, 59, 59, tzinfo=UTC), ReasonCode.NOT_YET_VALID),  # 2019-04-30 23:59 CST
        (datetime(2019, 4, 30, 16, 0, tzinfo=UTC), ReasonCode.VERIFIED),  # 2019-05-01 00:00 CST
        (datetime(2039, 5, 1, 15, 59, 59, tzinfo=UTC), ReasonCode.VERIFIED),  # last valid day, CST
        (datetime(2039, 5, 1, 16, 0, tzinfo=UTC), ReasonCode.EXPIRED),  # 2039-05-02 CST
    ],
)
def test_validity_window_is_inclusive_in_beijing_time(sm2_signer, verify, now, code):
    assert verify(sm2_signer.certificate(), now=now).reason_code is code


def test_long_term_certificate_has_no_end(sm2_signer, verify):
    wire = sm2_signer.certificate(valid_to=None)
    assert verify(wire, now=datetime(2099, 1, 1, tzinfo=UTC)).verified


def test_holder_must_be_the_applicant(sm2_signer, verify):
    result = verify(sm2_signer.certificate(), applicant_id_number="42010619950722024X")
    assert result.reason_code is ReasonCode.HOLDER_MISMATCH and not result.verified
    assert verify(
        sm2_signer.certificate(holder_code="42060219850611046x"), applicant_id_number="42060219850611046X"
    ).verified


def test_unknown_issuer(sm2_signer):
    result = verify_certificate(
        sm2_signer.certificate(), trust_store=TrustStore(), now=NOW, applicant_id_number=APPLICANT
    )
    assert result.reason_code is ReasonCode.UNKNOWN_ISSUER and result.detail == "issuer unknown"


def test_issuer_known_only_for_another_algorithm(signers):
    store = TrustStore.from_keys([signers[ED25519].key])
    result = verify_certificate(
        signers[SM2_SM3].certificate(), trust_store=store, now=NOW, applicant_id_number=APPLICANT
    )
    assert result.reason_code is ReasonCode.UNKNOWN_ISSUER and "SM2-SM3" in result.detail


def test_a_key_of_another_issuer_does_not_verify(trust_store, signer_factory):
    impostor = signer_factory(SM2_SM3, issuer_code=ISSUER_CODE)  # claims the issuer, key not trusted
    result = verify_certificate(
        impostor.certificate(), trust_store=trust_store, now=NOW, applicant_id_number=APPLICANT
    )
    assert result.reason_code is ReasonCode.BAD_SIGNATURE


@pytest.mark.parametrize("algorithm", ["RSA-SHA1", "SM2", "", "none"])
def test_unsupported_algorithms(sm2_signer, verify, algorithm):
    wire = sm2_signer.certificate()
    wire["seal"]["algorithm"] = algorithm
    result = verify(wire)
    expected = ReasonCode.MALFORMED_CERTIFICATE if not algorithm else ReasonCode.UNSUPPORTED_ALGORITHM
    assert result.reason_code is expected and not result.verified


@pytest.mark.parametrize("algorithm", [SM2_SM3, ECDSA_P256_SHA256, ED25519])
@pytest.mark.parametrize("mangle", ["truncate", "empty_der", "not_base64", "flip", "extend"])
def test_damaged_signatures_are_bad_signatures(signers, verify, algorithm, mangle):
    wire = signers[algorithm].certificate()
    raw = base64.b64decode(wire["seal"]["signature"])
    damaged = {
        "truncate": base64.b64encode(raw[: len(raw) // 2]).decode(),
        "empty_der": base64.b64encode(b"\x30\x00").decode(),
        "not_base64": "@@not base64@@",
        "flip": base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode(),
        "extend": base64.b64encode(raw + b"\x00").decode(),
    }[mangle]
    wire["seal"]["signature"] = damaged
    result = verify(wire)
    assert result.reason_code is ReasonCode.BAD_SIGNATURE and not result.verified


@pytest.mark.parametrize(
    "identifier_value",
    [
        "not an identifier",
        "1.2.156.3005.2.11100000000000001M001.11420100MB0000001C.2019000001.001.0",  # wrong check
        identifier.build("11100000000000001M002", ISSUER_CODE, "2019000001"),  # other type code
        identifier.build("11100000000000001M001", "114200000000000012", "2019000001"),  # other issuer
    ],
)
def test_malformed_or_inconsistent_identifier(sm2_signer, verify, identifier_value):
    result = verify(sm2_signer.certificate(identifier=identifier_value))
    assert result.reason_code is ReasonCode.MALFORMED_IDENTIFIER and not result.verified


@pytest.mark.parametrize(
    "junk",
    [
        None,
        [],
        "certificate",
        {},
        {"seal": {}},
        {"seal": "x"},
    ],
)
def test_junk_is_a_malformed_certificate(verify, junk):
    result = verify(junk)
    assert result.reason_code is ReasonCode.MALFORMED_CERTIFICATE and not result.verified


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("issue_date", "2019/05/01"),
        ("valid_from", "20190501"),
        ("valid_to", "2039-02-30"),
        ("jurisdiction", "42"),
        ("holder_code", 420102),
        ("surface", {"a": 1}),
        ("surface", "text"),
        ("name", "x" * 10_000),
    ],
)
def test_bad_element_values_are_malformed(sm2_signer, verify, field, value):
    wire = sm2_signer.certificate()
    wire[field] = value
    result = verify(wire)
    assert result.reason_code is ReasonCode.MALFORMED_CERTIFICATE
    assert field in result.detail


def test_missing_elements_are_malformed(sm2_signer, verify):
    for key in list(sm2_signer.certificate()):
        wire = sm2_signer.certificate()
        del wire[key]
        result = verify(wire)
        assert not result.verified, key
        if key in {"valid_to", "surface"}:  # optional: absent means long-term / no face data,
            assert result.reason_code is ReasonCode.BAD_SIGNATURE, key  # but the seal covered them
        else:
            assert result.reason_code is ReasonCode.MALFORMED_CERTIFICATE, key
    wire = sm2_signer.certificate()
    wire["seal"]["signed_at"] = "2019-05-01T09:30:00"  # no offset
    assert verify(wire).reason_code is ReasonCode.MALFORMED_CERTIFICATE


def test_naive_now_is_a_caller_bug(sm2_signer, verify):
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(sm2_signer.certificate(), now=datetime(2025, 1, 1))


def test_cache_skips_the_seal_check_but_not_the_cheap_checks(sm2_signer, verify):
    cache = VerificationCache(maxsize=4)
    wire = sm2_signer.certificate()
    first = verify(wire, cache=cache)
    second = verify(wire, cache=cache)
    assert first.verified and not first.from_cache
    assert second.verified and second.from_cache and second.key_id == first.key_id
    assert (cache.hits, cache.misses) == (1, 1)
    # time and holder are still checked on a hit
    assert verify(wire, cache=cache, now=datetime(2040, 1, 1, tzinfo=UTC)).reason_code is ReasonCode.EXPIRED
    mismatch = verify(wire, cache=cache, applicant_id_number="420106199507220241")
    assert mismatch.reason_code is ReasonCode.HOLDER_MISMATCH


def test_cache_misses_on_any_content_change_including_revocation(sm2_signer, verify):
    cache = VerificationCache()
    wire = sm2_signer.certificate()
    assert verify(wire, cache=cache).verified
    wire["status"] = "revoked"
    result = verify(wire, cache=cache)
    assert result.reason_code is ReasonCode.REVOKED and not result.from_cache
    tampered = sm2_signer.certificate()
    tampered["holder"] = "别人"
    assert verify(tampered, cache=cache).reason_code is ReasonCode.BAD_SIGNATURE


def test_cache_hit_needs_the_key_still_trusted(sm2_signer, signer_factory, verify):
    cache = VerificationCache()
    wire = sm2_signer.certificate()
    assert verify(wire, cache=cache).verified
    rotated = TrustStore.from_keys([signer_factory(SM2_SM3).key])  # same issuer, other key: old key removed
    result = verify(wire, cache=cache, trust_store=rotated)
    assert result.reason_code is ReasonCode.BAD_SIGNATURE


def test_cache_is_bounded():
    cache = VerificationCache(maxsize=2)
    for n in range(5):
        cache.put(f"id{n}", "h", "k")
    assert len(cache) == 2


def test_trust_store_from_published_keys_skips_bad_entries(signers):
    payload = {
        "issuers": [
            {"issuer_code": "A", "algorithm": SM2_SM3, "public_key_pem": signers[SM2_SM3].pem},
            {"issuer_code": "B", "algorithm": SM2_SM3, "public_key_pem": signers[ED25519].pem},
            {"issuer_code": "C", "algorithm": ECDSA_P256_SHA256, "public_key_pem": signers[ED25519].pem},
            {"issuer_code": "D", "algorithm": "RSA", "public_key_pem": "x"},
            {"issuer_code": "E", "algorithm": ED25519, "public_key_pem": "-----BEGIN PUBLIC KEY-----\nAAA"},
            {"algorithm": ED25519},
            "junk",
        ]
    }
    store = TrustStore.from_published(payload)
    assert list(store.keys) == ["A"]
    assert [code for code, _ in store.rejected] == ["B", "C", "D", "E", "", ""]
    assert TrustStore.from_published("nonsense").rejected


def test_issuer_key_refuses_a_key_of_another_algorithm(signers):
    from certificates.errors import TrustStoreError

    with pytest.raises(TrustStoreError):
        IssuerKey.from_pem("X", signers[ECDSA_P256_SHA256].pem, ED25519)
    with pytest.raises(TrustStoreError):
        IssuerKey.from_pem("X", signers[ECDSA_P256_SHA256].pem, SM2_SM3)
