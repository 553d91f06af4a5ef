"""Access-control errors with stable codes. Details name the rule that failed, never a key or a person."""

from __future__ import annotations

import math

from prefill.errors import BadRequestError, ServiceError

__all__ = [
    "AssertionExpiredError",
    "AssertionInvalidError",
    "AssertionReplayedError",
    "AssertionRequiredError",
    "ClientNotFoundError",
    "ForbiddenError",
    "RateLimitedError",
    "UnauthenticatedError",
    "WindowContextRequiredError",
]


class UnauthenticatedError(ServiceError):
    """No client key, or one that is unknown, malformed or revoked (all answered alike)."""

    status, code, title = 401, "unauthenticated", "Authentication required"
    challenge = 'Bearer realm="prefill"'

    def __init__(self, detail: str | None = None, *, error: str = "invalid_token") -> None:
        # RFC 6750 §3: a request with no credentials at all gets the bare challenge.
        challenge = self.challenge if error == "" else f'{self.challenge}, error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class ForbiddenError(ServiceError):
    status, code, title = 403, "forbidden", "Forbidden"


class _AssertionError(ServiceError):
    status = 401
    challenge = 'ApplicantAssertion realm="prefill"'

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": self.challenge})


class AssertionRequiredError(_AssertionError):
    code, title = "assertion_required", "Applicant assertion required"


class AssertionInvalidError(_AssertionError):
    code, title = "assertion_invalid", "Applicant assertion invalid"


class AssertionExpiredError(_AssertionError):
    code, title = "assertion_expired", "Applicant assertion expired"


class AssertionReplayedError(_AssertionError):
    code, title = "assertion_replayed", "Applicant assertion already used"


class WindowContextRequiredError(BadRequestError):
    code, title = "window_context_required", "Window staff context required"


class RateLimitedError(ServiceError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str, retry_after_s: float) -> None:
        seconds = max(1, math.ceil(retry_after_s))
        super().__init__(detail, headers={"Retry-After": str(seconds)}, retry_after=seconds)


class ClientNotFoundError(ServiceError):
    status, code, title = 404, "client_not_found", "Client not found"
