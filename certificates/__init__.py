"""Electronic certificates (电子证照): GB/T 36903 model, GB/T 36904 identifiers, lookup in the
provincial e-certificate library, seal verification, and which materials a verified certificate waives.

See docs/certificates.md. Imports only ``connectors`` (signing, clock) of our packages.
"""

from certificates.catalog import CertificateType, load_certificate_types
from certificates.identifier import CertificateIdentifier
from certificates.lookup import (
    CertificateLibraryClient,
    LibraryCredentials,
    LookupEvent,
    LookupOutcome,
    LookupStatus,
    UseContext,
)
from certificates.model import Certificate, CertificateStatus, Seal, content_hash, signing_input
from certificates.service import CertificateCheck, check_certificate
from certificates.trust import SUPPORTED_ALGORITHMS, IssuerKey, TrustStore
from certificates.verify import ReasonCode, VerificationCache, VerificationResult, verify_certificate
from certificates.waivers import Waivers, load_waivers

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "Certificate",
    "CertificateCheck",
    "CertificateIdentifier",
    "CertificateLibraryClient",
    "CertificateStatus",
    "CertificateType",
    "IssuerKey",
    "LibraryCredentials",
    "LookupEvent",
    "LookupOutcome",
    "LookupStatus",
    "ReasonCode",
    "Seal",
    "TrustStore",
    "UseContext",
    "VerificationCache",
    "VerificationResult",
    "Waivers",
    "check_certificate",
    "content_hash",
    "load_certificate_types",
    "load_waivers",
    "signing_input",
    "verify_certificate",
]
