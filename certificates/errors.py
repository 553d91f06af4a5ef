"""Errors of the certificates package, each with a stable ``code``.

These are raised only inside the package (parsing, trust-store loading); the public verification and
lookup functions turn them into results with a reason rather than letting them escape.
"""

from __future__ import annotations

from typing import ClassVar


class CertificateError(Exception):
    """Base of the package's errors."""

    code: ClassVar[str] = "certificate_error"


class MalformedIdentifierError(CertificateError, ValueError):
    """An identifier that does not follow GB/T 36904 or whose check character is wrong."""

    code = "malformed_identifier"


class MalformedCertificateError(CertificateError, ValueError):
    """Certificate data missing a required element or holding a value of the wrong shape."""

    code = "malformed_certificate"


class TrustStoreError(CertificateError, ValueError):
    """An issuer key that cannot be loaded (bad PEM, wrong key type for the algorithm)."""

    code = "trust_store_error"


class CatalogueError(CertificateError, ValueError):
    """The packaged certificate-type or waiver data is inconsistent."""

    code = "catalogue_error"
