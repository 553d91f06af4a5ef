"""The service's error hierarchy and its mapping to RFC 9457 problem details.

Every error a client can see has a stable ``code``; the ``detail`` is for people and never carries a
personal value. Only this module turns errors into HTTP answers.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://prefill.hubei.example/problems/"

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base of every error that becomes a problem answer."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions
        # Answer headers the problem needs (WWW-Authenticate on 401, Retry-After on 429).
        self.headers = headers


class NotFoundError(ServiceError):
    status, code, title = 404, "not_found", "Not found"


class UnknownThemeError(NotFoundError):
    code, title = "unknown_theme", "Unknown theme"


class BadRequestError(ServiceError):
    status, code, title = 400, "bad_request", "Bad request"


class ValidationFailedError(ServiceError):
    status, code, title = 422, "validation_failed", "Request validation failed"


class ConflictError(ServiceError):
    status, code, title = 409, "conflict", "Conflict"


class UnavailableError(ServiceError):
    status, code, title = 503, "unavailable", "Service unavailable"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("body_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only the location and the reason: the rejected input may be a personal value.
    return [
        {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "reason": err.get("msg", "")}
        for err in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = ", ".join(e["field"] or "body" for e in errors)
        return problem_response(
            422,
            "validation_failed",
            "Request validation failed",
            f"invalid input: {fields}",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(
            exc.status_code,
            code,
            title,
            detail,
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The exception text may hold request data; log its type only at this level.
        log.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return problem_response(
            500, "internal_error", "Internal error", "an unexpected error occurred", instance=request.url.path
        )
