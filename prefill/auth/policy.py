"""The authorization matrix, as data, and the dependencies that enforce it on every route.

``ROUTES`` names every route of the service with the permission it needs (or ``PUBLIC``);
``PERMISSIONS`` says which roles hold each permission. ``install_access_control`` puts one dependency on
every route of the app: it looks the matched route up in the matrix, authenticates the client key,
applies the per-client rate limit and checks the role. A route missing from the matrix is refused
(403) for everyone, and ``tests/prefill/test_auth_matrix.py`` fails until it is added.

Routers then read who is calling::

    @router.post("/v1/prefill")
    def prefill(principal: Annotated[Principal, Depends(require("prefill"))], applicant: ApplicantDep): ...

``ApplicantDep`` is the only way to learn whose data a request concerns: it is the verified subject of
the applicant's assertion (``X-Applicant-Assertion``), for a ``frontend`` call or for a ``window`` call
(window staff present the assertion of the applicant at the counter, e.g. scanned from the applicant's
phone, and must add ``X-Operator-ID`` and ``X-Case-Number``, which the principal carries into the audit).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI, Header, Request
from fastapi.routing import APIRoute

from masking import pseudonym
from prefill.auth.assertions import VerifiedAssertion
from prefill.auth.errors import (
    AssertionRequiredError,
    ForbiddenError,
    UnauthenticatedError,
    WindowContextRequiredError,
)
from prefill.auth.runtime import AuthServices
from prefill.auth.service import Role

__all__ = [
    "ACCESS_POLICY",
    "ASSERTION_HEADER",
    "CASE_HEADER",
    "OPERATOR_HEADER",
    "PERMISSIONS",
    "PUBLIC",
    "ROUTES",
    "AccessPolicy",
    "Applicant",
    "ApplicantDep",
    "Principal",
    "PrincipalDep",
    "api_routes",
    "applicant_subject",
    "current_principal",
    "install_access_control",
    "require",
]

log = logging.getLogger(__name__)

PUBLIC = "public"
"""Permission of routes anyone may call: probes only. /docs and /openapi.json are not API routes."""

ASSERTION_HEADER = "X-Applicant-Assertion"
OPERATOR_HEADER = "X-Operator-ID"
CASE_HEADER = "X-Case-Number"
SECURITY_SCHEME = "ClientKey"

ALL_ROLES = frozenset(Role)
_APPLICANT_ROLES = frozenset({Role.frontend, Role.window})

PERMISSIONS: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        # The catalogue is the published plan — no personal data — but still only for known clients.
        "catalog.read": ALL_ROLES,
        "prefill": _APPLICANT_ROLES,
        "applications.submit": _APPLICANT_ROLES,
        "applications.read": _APPLICANT_ROLES,
        "me.access_log": _APPLICANT_ROLES,
        "audit.read": frozenset({Role.auditor}),
        "audit.verify": frozenset({Role.auditor, Role.admin}),
        "registry.read": ALL_ROLES,
        "registry.write": frozenset({Role.department, Role.admin}),
        # Approving fields, mapping them into the merged form, waiving materials: the bundle's operator.
        "registry.admin": frozenset({Role.admin}),
        # The registry's admin trail (metadata of changes, no personal values).
        "registry.audit": frozenset({Role.auditor, Role.admin}),
        # Operational figures, no personal values: operators (admin) and oversight (auditor) read them.
        "metrics.read": frozenset({Role.auditor, Role.admin}),
    }
)

# Permissions that concern one applicant: a window call needs operator id and case number for them.
WINDOW_CONTEXT_PERMISSIONS = frozenset(
    {"prefill", "applications.submit", "applications.read", "me.access_log"}
)

# (method, path template) → permission. Path parameters match whatever they are named.
ROUTES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("GET", "/healthz"): PUBLIC,
        ("GET", "/readyz"): PUBLIC,
        ("GET", "/metrics"): "metrics.read",
        ("GET", "/v1/catalog/themes/{theme}"): "catalog.read",
        ("GET", "/v1/catalog/themes/{theme}/report"): "catalog.read",
        ("POST", "/v1/prefill"): "prefill",
        ("POST", "/v1/applications"): "applications.submit",
        ("GET", "/v1/applications/{id}"): "applications.read",
        ("GET", "/v1/me/access-log"): "me.access_log",
        ("GET", "/v1/audit/events"): "audit.read",
        ("GET", "/v1/audit/export"): "audit.read",
        ("GET", "/v1/audit/verify"): "audit.verify",
        ("GET", "/v1/registry/fields"): "registry.read",
        ("GET", "/v1/registry/fields/{code}"): "registry.read",
        ("POST", "/v1/registry/fields"): "registry.write",
        ("PUT", "/v1/registry/fields/{code}"): "registry.write",
        ("GET", "/v1/registry/fields/{code}/history"): "registry.read",
        ("POST", "/v1/registry/fields/{code}/approve"): "registry.admin",
        ("POST", "/v1/registry/fields/{code}/activate"): "registry.write",
        ("POST", "/v1/registry/fields/{code}/deprecate"): "registry.write",
        ("GET", "/v1/registry/rules"): "registry.read",
        ("POST", "/v1/registry/mappings"): "registry.admin",
        ("POST", "/v1/registry/mappings/{id}/retire"): "registry.admin",
        ("POST", "/v1/registry/waivers"): "registry.admin",
        ("POST", "/v1/registry/waivers/{id}/retire"): "registry.admin",
        ("GET", "/v1/registry/events"): "registry.audit",
    }
)

_PARAM = re.compile(r"\{[^}]*\}")
_CONTEXT_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


def _route_key(method: str, path: str) -> tuple[str, str]:
    return method.upper(), _PARAM.sub("{}", path)


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """``(method, full path template, route)`` of every API route, through included routers.

    FastAPI 0.137+ keeps included routers as a tree (``app.routes`` no longer lists their routes);
    ``iter_route_contexts`` is its public way to flatten it, with each route's full path.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.137: app.routes is flat and paths are complete
        contexts: list[tuple[Any, str | None, set[str] | None]] = [
            (r, getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes
        ]
    else:
        contexts = [(c.original_route, c.path_format, c.methods) for c in iter_route_contexts(app.routes)]
    return sorted(
        (
            (method, path, route)
            for route, path, methods in contexts
            if isinstance(route, APIRoute) and path
            for method in methods or ()
        ),
        key=lambda item: (item[1], item[0]),
    )


def _paths_of(app: FastAPI, route: Any) -> set[str]:
    """Full path templates under which ``route`` (``scope["route"]``) is served; cached on the app."""
    table: dict[int, set[str]] | None = getattr(app.state, "route_paths", None)
    if table is None or id(route) not in table:  # first request, or routes added since
        table = {}
        for _method, path, api_route in api_routes(app):
            table.setdefault(id(api_route), set()).add(path)
        app.state.route_paths = table
    return table.get(id(route), set())


@dataclass(frozen=True)
class AccessPolicy:
    """The matrix: routes → permission → roles. Immutable; ``with_routes`` returns an extended copy."""

    permissions: Mapping[str, frozenset[Role]] = field(default_factory=lambda: PERMISSIONS)
    routes: Mapping[tuple[str, str], str] = field(default_factory=lambda: ROUTES)
    window_context: frozenset[str] = WINDOW_CONTEXT_PERMISSIONS
    _index: dict[tuple[str, str], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = {p for p in self.routes.values() if p != PUBLIC and p not in self.permissions}
        if unknown:
            raise ValueError(f"routes name unknown permissions: {sorted(unknown)}")
        object.__setattr__(self, "_index", {_route_key(m, p): perm for (m, p), perm in self.routes.items()})

    def permission_for(self, method: str, path: str) -> str | None:
        return self._index.get(_route_key(method, path))

    def roles_for(self, method: str, path: str) -> frozenset[Role] | None:
        """Roles allowed on a route; None when it is public or missing (see ``permission_for``)."""
        permission = self.permission_for(method, path)
        if permission is None or permission == PUBLIC:
            return None
        return self.permissions[permission]

    def with_routes(self, extra: Mapping[tuple[str, str], str]) -> AccessPolicy:
        return replace(self, routes={**self.routes, **extra})

    def unmapped_routes(self, app: FastAPI) -> list[tuple[str, str]]:
        """API routes of ``app`` the matrix does not name."""
        return [(m, p) for m, p, _ in api_routes(app) if self.permission_for(m, p) is None]

    def permission_for_request(self, request: Request) -> str | None:
        """The permission of the matched route; None (refuse) when missing or served under paths
        whose permissions differ."""
        route = request.scope.get("route")
        paths = _paths_of(request.app, route) if route is not None else set()
        permissions = {self.permission_for(request.method, path) for path in paths}
        return permissions.pop() if len(permissions) == 1 else None


ACCESS_POLICY = AccessPolicy()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client and, for window staff, the operator and the case."""

    client_id: str
    client_name: str
    key_id: str
    role: Role
    department: str | None = None
    operator_id: str | None = None
    case_number: str | None = None

    def acts_for_department(self, department: str) -> bool:
        """Whether a registry write for ``department`` is this caller's to make."""
        return self.role is Role.admin or (self.role is Role.department and self.department == department)


@dataclass(frozen=True)
class Applicant:
    """The applicant a request concerns, from a verified assertion. ``subject`` is the ID number."""

    subject: str = field(repr=False)
    subject_key: str  # keyed pseudonym of the subject: what logs, caches and limits may hold
    assertion: VerifiedAssertion
    principal: Principal


def _auth(request: Request) -> AuthServices:
    return cast(AuthServices, request.app.state.prefill.auth)


def _policy(request: Request) -> AccessPolicy:
    return cast(AccessPolicy, getattr(request.app.state, "access_policy", ACCESS_POLICY))


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise UnauthenticatedError("a client key is required (Authorization: Bearer <key>)", error="")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise UnauthenticatedError("the Authorization header must be 'Bearer <client key>'")
    return key.strip()


def _context_header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if not _CONTEXT_VALUE.match(value):
        raise WindowContextRequiredError(f"{name} must be 1 to 64 letters, digits or . _ : / -")
    return value


def _authenticate(request: Request) -> Principal:
    auth = _auth(request)
    client = auth.clients.authenticate(_bearer(request))
    auth.limiter.check_client(client.id)
    operator_id = case_number = None
    if client.role is Role.window:
        operator_id = _context_header(request, OPERATOR_HEADER)
        case_number = _context_header(request, CASE_HEADER)
    return Principal(
        client_id=client.id,
        client_name=client.name,
        key_id=client.key_id,
        role=client.role,
        department=client.department,
        operator_id=operator_id,
        case_number=case_number,
    )


def _require_window_context(principal: Principal) -> None:
    if principal.role is Role.window and not (principal.operator_id and principal.case_number):
        raise WindowContextRequiredError(
            f"window staff must send {OPERATOR_HEADER} and {CASE_HEADER} for an applicant's data"
        )


def authorize(request: Request) -> None:
    """On every API route (installed app-wide): the matrix decides, before the endpoint runs."""
    route = request.scope.get("route")
    path = getattr(route, "path", "?")
    policy = _policy(request)
    permission = policy.permission_for_request(request)
    if permission is None:
        log.error("route missing from the access matrix", extra={"method": request.method, "route": path})
        raise ForbiddenError("this route is not in the access matrix")
    if permission == PUBLIC:
        return
    try:
        principal = _authenticate(request)
        if principal.role not in policy.permissions[permission]:
            raise ForbiddenError(f"role {principal.role.value} may not use this route")
        if permission in policy.window_context:
            _require_window_context(principal)
    except (UnauthenticatedError, ForbiddenError, WindowContextRequiredError) as exc:
        log.info("access refused", extra={"code": exc.code, "method": request.method, "route": path})
        raise
    request.state.principal = principal


def current_principal(request: Request) -> Principal:
    """The caller, as ``authorize`` established it (authenticating now if the route is public)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        principal = _authenticate(request)
        request.state.principal = principal
    return cast(Principal, principal)


def require(permission: str) -> Callable[..., Principal]:
    """A dependency returning the caller after checking ``permission`` (beside the app-wide check)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; add it to PERMISSIONS")

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal.role not in _policy(request).permissions[permission]:
            raise ForbiddenError(f"role {principal.role.value} may not use this route")
        if permission in _policy(request).window_context:
            _require_window_context(principal)
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


async def applicant_subject(
    request: Request,
    x_applicant_assertion: Annotated[
        str | None,
        Header(description="The applicant's assertion (JWT) from the identity platform.", max_length=8192),
    ] = None,
    x_operator_id: Annotated[
        str | None, Header(description="Window staff only: the operator at the counter.", max_length=64)
    ] = None,
    x_case_number: Annotated[
        str | None, Header(description="Window staff only: the case being handled.", max_length=64)
    ] = None,
) -> Applicant:
    """The verified applicant of this request. Only frontend and window clients act for an applicant.

    ``async`` although it does no I/O: the signature check, the limits and the replay set are CPU work
    of well under a millisecond, cheaper on the event loop than a hop to FastAPI's thread pool and back
    (which a plain ``def`` dependency gets). ``authorize`` reads the client's row, so it stays a ``def``.
    """
    principal = current_principal(request)
    if principal.role not in _APPLICANT_ROLES:
        raise ForbiddenError(f"role {principal.role.value} does not act for applicants")
    _require_window_context(principal)
    if not x_applicant_assertion:
        raise AssertionRequiredError(f"the applicant's assertion is required ({ASSERTION_HEADER})")
    auth = _auth(request)
    # Check first, count against the applicant's limit, and only then use the jti up: a refused
    # request does not burn the applicant's assertion.
    assertion = auth.assertions.verify(x_applicant_assertion, consume=False)
    subject_key = pseudonym(assertion.subject, auth.pseudonym_key)
    auth.limiter.check_subject(subject_key)
    auth.assertions.consume(assertion)
    log.info(
        "applicant asserted",
        extra={"subject_key": subject_key[:16], "client_id": principal.client_id, "role": principal.role},
    )
    return Applicant(
        subject=assertion.subject, subject_key=subject_key, assertion=assertion, principal=principal
    )


PrincipalDep = Annotated[Principal, Depends(current_principal)]
ApplicantDep = Annotated[Applicant, Depends(applicant_subject)]


def _document_security(app: FastAPI, policy: AccessPolicy) -> None:
    """OpenAPI: the bearer scheme on exactly the routes that need a key, and their refusals."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[SECURITY_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "A client key (`pf_<key id>_<secret>`); `prefill clients add` issues one.",
        }
        refusals = {
            "401": {"description": "No, unknown or revoked client key, or a bad applicant assertion"},
            "403": {"description": "The client's role may not use this route"},
            "429": {"description": "Rate limit reached; see Retry-After"},
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                permission = policy.permission_for(method, path)
                if permission in (None, PUBLIC):
                    continue
                operation["security"] = [{SECURITY_SCHEME: []}]
                for status, response in refusals.items():
                    operation.setdefault("responses", {}).setdefault(status, response)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_access_control(app: FastAPI, policy: AccessPolicy = ACCESS_POLICY) -> None:
    """Put the matrix on every API route of ``app``. Call before any router is included."""
    if app.router.routes and any(isinstance(r, APIRoute) for r in app.router.routes):
        raise RuntimeError("install_access_control must run before routes are added")
    app.state.access_policy = policy
    app.router.dependencies.append(Depends(authorize))
    _document_security(app, policy)
