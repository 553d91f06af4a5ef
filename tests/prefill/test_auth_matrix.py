"""The authorization matrix: every route is in it, and every route answers every role (and no key) as the
matrix says. A new route missing from ``prefill/auth/policy.py:ROUTES`` fails here."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from prefill.app import create_app
from prefill.auth.policy import ACCESS_POLICY, CASE_HEADER, OPERATOR_HEADER, PUBLIC, api_routes
from prefill.auth.service import Role

REFUSALS = {"unauthenticated", "forbidden"}
WINDOW_CONTEXT = {OPERATOR_HEADER: "op-0042", CASE_HEADER: "WH-2026-000123"}


def _api_routes(app) -> list[tuple[str, str]]:
    return [(method, path) for method, path, _ in api_routes(app)]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "flexible-employment" if m.group(0) == "{theme}" else "x", path)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]):
    body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    return client.request(method, _concrete(path), headers=headers, **body)


def _code(response) -> str | None:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return response.json().get("code")
    return None


def test_the_matrix_names_every_route(settings):
    app = create_app(settings)
    assert ACCESS_POLICY.unmapped_routes(app) == [], "add these routes to prefill/auth/policy.py:ROUTES"


def test_every_route_with_every_role_and_without_a_key(client, auth_headers):
    seen = 0
    for method, path in _api_routes(client.app):
        permission = ACCESS_POLICY.permission_for(method, path)
        anonymous = _call(client, method, path, {})
        if permission == PUBLIC:
            assert _code(anonymous) not in REFUSALS, (method, path)
            continue
        assert anonymous.status_code == 401, (method, path)
        assert _code(anonymous) == "unauthenticated"
        assert anonymous.headers["www-authenticate"] == 'Bearer realm="prefill"'
        allowed = ACCESS_POLICY.roles_for(method, path)
        assert allowed is not None
        for role in Role:
            headers = auth_headers(role.value, "psb")
            if role is Role.window:
                headers |= WINDOW_CONTEXT
            response = _call(client, method, path, headers)
            if role in allowed:
                assert _code(response) not in REFUSALS, (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role)
                assert _code(response) == "forbidden"
            seen += 1
    assert seen >= 2 * len(Role)  # at least the catalogue's routes were walked


@pytest.mark.parametrize(
    "authorization",
    ["Bearer pf_0000000000000000_" + "A" * 43, "Bearer not-a-key", "Basic YWRtaW46YWRtaW4=", "Bearer "],
)
def test_unknown_and_malformed_keys_are_refused(client, authorization):
    response = client.get("/v1/catalog/themes/flexible-employment", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert _code(response) == "unauthenticated"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "pf_0000000000000000" not in response.text


def test_a_revoked_key_is_refused_on_every_protected_route(client):
    clients = client.app.state.prefill.auth.clients
    issued = clients.add("soon revoked", Role.admin)
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert client.get("/v1/catalog/themes/flexible-employment", headers=headers).status_code == 200
    clients.revoke(issued.client.id)
    for method, path in _api_routes(client.app):
        if ACCESS_POLICY.permission_for(method, path) != PUBLIC:
            response = _call(client, method, path, headers)
            assert response.status_code == 401, (method, path)


def test_a_route_missing_from_the_matrix_is_refused_to_everyone(settings, auth_headers):
    app = create_app(settings)

    @app.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "data"}

    assert ACCESS_POLICY.unmapped_routes(app) == [("GET", "/v1/forgotten")]
    with TestClient(app) as client:
        for role in ("admin", "frontend"):
            response = client.get("/v1/forgotten", headers=auth_headers(role))
            assert response.status_code == 403
            assert "secret" not in response.text


def test_the_openapi_document_marks_exactly_the_protected_routes(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ClientKey"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            public = ACCESS_POLICY.permission_for(method, path) == PUBLIC
            assert ("security" in operation) is not public, (method, path)


def test_docs_stay_public(client):
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/healthz").status_code == 200
