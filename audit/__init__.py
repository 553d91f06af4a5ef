"""Tamper-evident audit log of cross-department reads (DESIGN §7).

Entry points: :class:`audit.service.AuditLog` (async service), :func:`audit.bundle.verify_bundle`
(offline check of an export), :mod:`audit.schemas` (what callers pass and get back),
:mod:`audit.models` (tables), :mod:`audit.chain` (hashing, signing and key helpers).
"""

from audit.bundle import verify_bundle
from audit.chain import generate_signing_key, key_id, load_public_key, load_signing_key, public_key_bytes
from audit.errors import (
    AuditClosedError,
    AuditError,
    AuditWriteError,
    BundleFormatError,
    InvalidCursorError,
    SigningKeyMissingError,
)
from audit.schemas import (
    AccessLogEntry,
    Action,
    AuditEvent,
    AuditFilters,
    AuditRecord,
    AuditRecordView,
    Checkpoint,
    Outcome,
    Page,
    Purpose,
    Requester,
    SourceRef,
    Subject,
    VerifyResult,
)
from audit.service import AuditLog

__all__ = [
    "AccessLogEntry",
    "Action",
    "AuditClosedError",
    "AuditError",
    "AuditEvent",
    "AuditFilters",
    "AuditLog",
    "AuditRecord",
    "AuditRecordView",
    "AuditWriteError",
    "BundleFormatError",
    "Checkpoint",
    "InvalidCursorError",
    "Outcome",
    "Page",
    "Purpose",
    "Requester",
    "SigningKeyMissingError",
    "SourceRef",
    "Subject",
    "VerifyResult",
    "generate_signing_key",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "public_key_bytes",
    "verify_bundle",
]
