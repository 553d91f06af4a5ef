"""Errors of submissions, with stable codes. Details name fields, never their values."""

from __future__ import annotations

from collections.abc import Sequence

from prefill.applications.validation import FieldError
from prefill.errors import BadRequestError, ConflictError, NotFoundError, ServiceError

__all__ = [
    "ApplicationNotFoundError",
    "InvalidValuesError",
    "LockedValueChangedError",
    "PrefillAlreadySubmittedError",
    "PrefillTokenExpiredError",
    "PrefillTokenInvalidError",
]


class PrefillTokenInvalidError(BadRequestError):
    code, title = "prefill_token_invalid", "Prefill token invalid"


class PrefillTokenExpiredError(ServiceError):
    status, code, title = 422, "prefill_token_expired", "Prefill token expired"


class LockedValueChangedError(ConflictError):
    """A value the prefill verified and locked was changed (or left out)."""

    code, title = "locked_value_changed", "Locked value changed"

    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__(
            f"verified values may not be changed: {', '.join(fields)}",
            fields=list(fields),
            errors=[{"field": f, "reason": "locked_value_changed"} for f in fields],
        )


class InvalidValuesError(ServiceError):
    status, code, title = 422, "invalid_values", "Invalid values"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        names = list(dict.fromkeys(e.field for e in errors))
        super().__init__(
            f"invalid values: {', '.join(names)}",
            fields=names,
            errors=[{"field": e.field, "reason": e.reason.value} for e in errors],
        )


class PrefillAlreadySubmittedError(ConflictError):
    """The prefill was already submitted with other values; one prefill makes one application."""

    code, title = "prefill_already_submitted", "Prefill already submitted"


class ApplicationNotFoundError(NotFoundError):
    code, title = "application_not_found", "Application not found"
