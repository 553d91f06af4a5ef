"""Errors of the connectors package, each with a stable code.

Messages never carry personal values (ID numbers, names): callers may log them as they are.
Only ``prefill`` maps these to HTTP problem details.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of all connector errors."""

    code = "connector_error"


class ConfigError(ConnectorError):
    """The source configuration (``connectors/data/sources.yaml``) is invalid."""

    code = "connector_config_invalid"


class UnknownFieldError(ConnectorError):
    """A requested canonical field code is not provided by the source."""

    code = "connector_unknown_field"


class InvalidIdNumber(ConnectorError, ValueError):
    """An ID number (居民身份证号码) failed validation; ``reason`` says which part."""

    code = "invalid_id_number"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid ID number: {reason}")
