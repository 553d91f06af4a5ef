from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy import create_engine

from prefill.app import create_app
from prefill.auth.policy import PUBLIC
from prefill.settings import Settings

PROBLEM = "application/problem+json"


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_fails_when_the_database_is_unreachable(client):
    # Point the running service at a database server that is not there.
    client.app.state.prefill.engine = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "unavailable"


def test_openapi_page_is_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/catalog/themes/{theme}/report" in paths


def test_theme_and_report(client, auth_headers):
    client.headers.update(auth_headers("frontend"))
    theme = client.get("/v1/catalog/themes/flexible-employment").json()
    assert theme["forms"]["merged"]["name"] == "灵活就业一件事申请表"
    assert len(theme["materials"]) == 19
    report = client.get("/v1/catalog/themes/flexible-employment/report").json()
    assert report["materials"]["after_with_certificates"] == 5
    assert report["working_days"] == {"before": 116, "after": {"min": 2, "max": 40}}


def test_unknown_theme_is_a_404_problem(client, auth_headers):
    response = client.get("/v1/catalog/themes/no-such-theme/report", headers=auth_headers("auditor"))
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "unknown_theme"
    assert body["status"] == 404
    assert body["type"].endswith("/unknown_theme")


def test_unknown_route_is_a_problem(client):
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "not_found"


class _Echo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int


def _with_echo_route(app: FastAPI) -> FastAPI:
    @app.post("/test-echo")
    def echo(body: _Echo) -> _Echo:
        return body

    app.state.access_policy = app.state.access_policy.with_routes({("POST", "/test-echo"): PUBLIC})

    return app


def test_validation_errors_are_problems_naming_the_field(settings):
    with TestClient(_with_echo_route(create_app(settings))) as client:
        response = client.post("/test-echo", json={"count": "many", "secret": "420102199001011234"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {e["field"] for e in body["errors"]} == {"count", "secret"}
    # The rejected input is not echoed back.
    assert "420102199001011234" not in response.text and "many" not in response.text


def test_oversized_bodies_are_refused(tmp_path, database_url):
    settings = Settings(database_url=database_url, data_dir=tmp_path, max_body_bytes=100)
    with TestClient(_with_echo_route(create_app(settings))) as client:
        response = client.post(
            "/test-echo",
            content=b'{"count": 1, "pad": "' + b"x" * 200 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "body_too_large"

        def chunks():
            yield b'{"count": 1, "pad": "'
            for _ in range(10):
                yield b"y" * 50
            yield b'"}'

        streamed = client.post("/test-echo", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413


def test_request_id_and_security_headers(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    generated = client.get("/healthz", headers={"X-Request-ID": "has spaces and 420102199001011234!"})
    assert generated.headers["x-request-id"] != "has spaces and 420102199001011234!"
    assert len(generated.headers["x-request-id"]) == 32


def test_a_broken_catalogue_stops_start_up(catalogue_copy, tmp_path, database_url):
    (catalogue_copy / "flexible-employment" / "matters.yaml").write_text("- {code: x}\n", encoding="utf-8")
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path, catalog_dir=catalogue_copy))
    try:
        with TestClient(app):
            raise AssertionError("start-up should have failed")
    except ValueError as exc:
        assert "matters.yaml, entry 'x'" in str(exc)


def test_a_catalogue_waiver_the_certificates_package_does_not_allow_stops_start_up(
    catalogue_copy, tmp_path, database_url
):
    import yaml

    path = catalogue_copy / "flexible-employment" / "materials.yaml"
    materials = yaml.safe_load(path.read_text(encoding="utf-8"))
    photo = next(m for m in materials if m["code"] == "recent_photo")
    photo["waivable_by"] = [{"certificate": "id_card"}]
    path.write_text(yaml.safe_dump(materials, allow_unicode=True), encoding="utf-8")
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path, catalog_dir=catalogue_copy))
    try:
        with TestClient(app):
            raise AssertionError("start-up should have failed")
    except ValueError as exc:
        assert "'recent_photo' waivable by 'id_card'" in str(exc)


def test_a_field_its_source_does_not_provide_stops_start_up_and_frees_the_simulator_port(
    catalogue_copy, tmp_path, database_url
):
    import socket

    import yaml

    path = catalogue_copy / "flexible-employment" / "fields.yaml"
    fields = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(f for f in fields if f["code"] == "mobile")["provided_by"] = "psb_identity"
    path.write_text(yaml.safe_dump(fields, allow_unicode=True), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, catalog_dir=catalogue_copy, simulator_port=port
    )
    try:
        with TestClient(create_app(settings)):
            raise AssertionError("start-up should have failed")
    except ValueError as exc:
        assert "field 'mobile' is provided by 'psb_identity'" in str(exc)
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the simulator let its port go
