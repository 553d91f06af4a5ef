"""SM2 signatures of tongsuopy (used in production) cross-checked with gmssl (pure Python)."""

import base64

from gmssl import sm2 as gmssl_sm2
from tongsuopy.crypto import serialization

from certificates.model import Certificate, signing_input
from certificates.trust import SM2_SM3
from certificates.verify import ReasonCode


def gmssl_for(signer):
    private_hex = format(signer.private_key.private_numbers().private_value, "064x")
    point = signer.private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    # asn1=True: DER (r, s) as in GM/T 0009; sign_with_sm3 / verify_with_sm3 use the default ID
    # 1234567812345678 in Z_A.
    return gmssl_sm2.CryptSM2(private_key=private_hex, public_key=point[1:].hex(), asn1=True)


def test_gmssl_verifies_the_tongsuopy_seal(sm2_signer):
    wire = sm2_signer.certificate()
    data = signing_input(Certificate.from_wire(wire))
    signature = base64.b64decode(wire["seal"]["signature"])
    gm = gmssl_for(sm2_signer)
    assert gm.verify_with_sm3(signature.hex(), data)
    assert not gm.verify_with_sm3(signature.hex(), data + b" ")


def test_a_gmssl_seal_verifies_in_the_certificates_package(sm2_signer, verify):
    wire = sm2_signer.certificate()
    data = signing_input(Certificate.from_wire(wire))
    gm_signature = bytes.fromhex(gmssl_for(sm2_signer).sign_with_sm3(data))
    wire["seal"]["signature"] = base64.b64encode(gm_signature).decode()
    result = verify(wire)
    assert result.verified, result
    # and a gmssl signature over other data does not
    wire["seal"]["signature"] = base64.b64encode(
        bytes.fromhex(gmssl_for(sm2_signer).sign_with_sm3(data + b"x"))
    ).decode()
    assert verify(wire).reason_code is ReasonCode.BAD_SIGNATURE


def test_the_simulated_library_seals_verify_with_gmssl():
    from connectors.simulator.ecert_data import build_library
    from connectors.simulator.ecert_data import signing_input as library_signing_input
    from connectors.simulator.personas import persona_by_name

    library = build_library(b"test-seed", [persona_by_name("complete")])
    issuer = library.issuers[0]
    [wire] = next(iter(library.certificates.values()))
    point = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    gm = gmssl_sm2.CryptSM2(private_key="00", public_key=point[1:].hex(), asn1=True)
    signature = base64.b64decode(wire["seal"]["signature"])
    assert gm.verify_with_sm3(signature.hex(), library_signing_input(wire))
    assert wire["seal"]["algorithm"] == SM2_SM3
