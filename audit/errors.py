"""Errors of the audit package. Stable codes; messages never carry personal values."""

from __future__ import annotations


class AuditError(Exception):
    """Base of every audit error."""

    code = "audit.error"


class AuditWriteError(AuditError):
    """The record could not be made durable. Fail closed: the caller must not disclose the data."""

    code = "audit.write_failed"


class AuditClosedError(AuditWriteError):
    """The log was closed; nothing more can be recorded, so nothing more may be disclosed."""

    code = "audit.closed"


class SigningKeyMissingError(AuditError):
    """A checkpoint was asked of a log built without its Ed25519 signing key."""

    code = "audit.no_signing_key"


class BundleFormatError(AuditError):
    """An export bundle line is not valid JSON or not a known line type."""

    code = "audit.bundle_format"


class InvalidCursorError(AuditError):
    """A pagination cursor was not produced by this service."""

    code = "audit.invalid_cursor"
