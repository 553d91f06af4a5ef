"""SM2-with-SM3 signature verifications per second: tongsuopy (production) vs gmssl (pure Python).

Usage: python bench/sm2_bench.py [--seconds 2]

Verifies the same DER signature over a certificate-sized canonical JSON message with both libraries
(checking that each accepts the other's signature first), and the full ``verify_certificate`` path with
and without the verification cache.
"""

from __future__ import annotations

import argparse
import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gmssl import sm2 as gmssl_sm2
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec

from certificates import identifier
from certificates.model import Certificate, signing_input
from certificates.trust import SM2_SM3, IssuerKey, TrustStore
from certificates.verify import VerificationCache, verify_certificate

ISSUER = "114200000000000012"
HOLDER = "420102198803150137"


def rate(label: str, fn: Callable[[], object], seconds: float) -> float:
    fn()  # warm up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    per_second = count / elapsed
    print(f"{label:<44} {per_second:>10.0f} /s   {1000 / per_second:8.3f} ms each   ({count} runs)")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    key = ec.generate_private_key(ec.SM2())
    public = key.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    wire: dict[str, Any] = {
        "identifier": identifier.build("11100000000000001M001", ISSUER, "20190000000001"),
        "name": "中华人民共和国居民身份证",
        "type_code": "11100000000000001M001",
        "number": HOLDER,
        "issuer": "湖北省公安厅",
        "issuer_code": ISSUER,
        "issue_date": "2019-05-01",
        "valid_from": "2019-05-01",
        "valid_to": "2039-05-01",
        "holder": "王测完",
        "holder_code": HOLDER,
        "holder_code_type": "111",
        "status": "valid",
        "jurisdiction": "420102",
        "surface": {"address": "湖北省武汉市江岸区测试路1号", "birth_date": "1988-03-15"},
        "seal": {
            "signer": "湖北省公安厅电子印章",
            "signed_at": "2019-05-01T09:30:00+08:00",
            "algorithm": SM2_SM3,
            "signature": "AA==",  # placeholder: not part of the signing input
        },
    }
    data = signing_input(Certificate.from_wire(wire))
    signature = key.sign(data, ec.ECDSA(hashes.SM3()))
    wire["seal"]["signature"] = base64.b64encode(signature).decode()

    point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    gm = gmssl_sm2.CryptSM2(
        private_key=format(key.private_numbers().private_value, "064x"), public_key=point[1:].hex(), asn1=True
    )
    assert gm.verify_with_sm3(signature.hex(), data), "gmssl rejects the tongsuopy signature"
    public.verify(bytes.fromhex(gm.sign_with_sm3(data)), data, ec.ECDSA(hashes.SM3()))

    store = TrustStore.from_keys([IssuerKey.from_pem(ISSUER, pem, SM2_SM3)])
    now = datetime(2025, 6, 1, tzinfo=UTC)
    cache = VerificationCache()

    print(f"message: {len(data)} bytes of canonical JSON; signature: {len(signature)} bytes DER")
    fast = rate(
        "tongsuopy SM2 verify", lambda: public.verify(signature, data, ec.ECDSA(hashes.SM3())), args.seconds
    )
    slow = rate(
        "gmssl SM2 verify (pure Python)", lambda: gm.verify_with_sm3(signature.hex(), data), args.seconds
    )
    rate(
        "verify_certificate, no cache (tongsuopy)",
        lambda: verify_certificate(wire, trust_store=store, now=now, applicant_id_number=HOLDER),
        args.seconds,
    )
    rate(
        "verify_certificate, cache hit",
        lambda: verify_certificate(wire, trust_store=store, now=now, applicant_id_number=HOLDER, cache=cache),
        args.seconds,
    )
    print(f"tongsuopy / gmssl: {fast / slow:.0f}x")


if __name__ == "__main__":
    main()
