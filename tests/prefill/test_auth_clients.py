"""Client keys: shown once, stored hashed, revocable at once; demo clients; the CLI; production refusals."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from prefill import db
from prefill.app import create_app
from prefill.auth.errors import ClientNotFoundError, UnauthenticatedError
from prefill.auth.service import ClientService, Role, dev_client_specs, hash_key, parse_key
from prefill.cli import main
from prefill.errors import BadRequestError
from prefill.settings import Settings

PEPPER = b"test pepper, sixteen bytes or more"
THEME = "/v1/catalog/themes/flexible-employment"


@pytest.fixture
def service(database_url):
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    yield ClientService(engine, PEPPER, departments=["psb", "tax"])
    engine.dispose()


def _table_text(service: ClientService) -> str:
    with service.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM clients")).all()
    return "\n".join("|".join(str(value) for value in row) for row in rows)


def test_a_key_is_shown_once_and_stored_only_as_a_hash(service):
    issued = service.add("Wuhan citizen portal", Role.frontend)
    key_id, secret = parse_key(issued.key) or ("", "")
    assert key_id == issued.client.key_id and len(secret) == 43
    stored = _table_text(service)
    assert issued.key not in stored and secret not in stored
    assert hash_key(issued.key, PEPPER) in stored
    assert not hasattr(issued.client, "key") and "key_hash" not in repr(issued.client)
    assert service.authenticate(issued.key).id == issued.client.id


def test_keys_are_random(service):
    keys = {service.add(f"client {i}", Role.frontend).key for i in range(5)}
    assert len(keys) == 5


def test_revocation_takes_effect_at_once(service):
    issued = service.add("counter 3", Role.window)
    service.revoke(issued.client.key_id)
    with pytest.raises(UnauthenticatedError):
        service.authenticate(issued.key)
    first = service.revoke(issued.client.id).revoked_at
    assert service.revoke(issued.client.id).revoked_at == first  # revoking twice keeps the first time
    with pytest.raises(ClientNotFoundError):
        service.revoke("no-such-client")


def test_a_key_with_a_right_id_and_a_wrong_secret_is_refused(service):
    issued = service.add("portal", Role.frontend)
    forged = issued.key[:-4] + ("AAAA" if not issued.key.endswith("AAAA") else "BBBB")
    with pytest.raises(UnauthenticatedError):
        service.authenticate(forged)


@pytest.mark.parametrize(
    ("role", "department", "message"),
    [
        (Role.department, None, "needs its department"),
        (Role.frontend, "psb", "only department clients"),
        (Role.department, "nowhere", "unknown department"),
    ],
)
def test_roles_and_departments_are_checked(service, role, department, message):
    with pytest.raises(BadRequestError, match=message):
        service.add("x", role, department)


def test_listing_never_shows_keys(service):
    issued = service.add("auditor office", Role.auditor)
    listed = service.list()
    assert [c.id for c in listed] == [issued.client.id]
    assert issued.key not in repr(listed)


def test_revocation_holds_at_once_against_the_running_service(client):
    clients = client.app.state.prefill.auth.clients
    issued = clients.add("temporary admin", Role.admin)
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert client.get(THEME, headers=headers).status_code == 200
    clients.revoke(issued.client.id)
    assert client.get(THEME, headers=headers).status_code == 401


def test_demo_keys_work_against_the_service_and_seeding_is_idempotent(settings, dev_keys, auth_headers):
    with TestClient(create_app(settings)) as client:
        for role in ("frontend", "window", "auditor", "admin"):
            assert client.get(THEME, headers=auth_headers(role)).status_code == 200, role
        for department in dev_keys["department"]:
            assert client.get(THEME, headers=auth_headers("department", department)).status_code == 200
        clients = client.app.state.prefill.auth.clients
        count = len(clients.list())
        clients.revoke(next(c.id for c in clients.list() if c.name == "dev-auditor"))
    with TestClient(create_app(settings)) as client:
        assert len(client.app.state.prefill.auth.clients.list()) == count
        assert client.get(THEME, headers=auth_headers("auditor")).status_code == 401  # stays revoked
    assert count == len(dev_client_specs(dev_keys["department"]))


def test_the_cli_adds_lists_and_revokes(database_url, capsys):
    assert main(["clients", "add", "--role", "department", "--department", "tax", "--name", "tax office",
                 "--database-url", database_url, "--json"]) == 0  # fmt: skip
    added = json.loads(capsys.readouterr().out)
    assert added["key"].startswith(f"pf_{added['key_id']}_") and added["department"] == "tax"

    assert main(["clients", "list", "--database-url", database_url, "--json"]) == 0
    listing = capsys.readouterr().out
    assert added["key"] not in listing
    assert [c["id"] for c in json.loads(listing)] == [added["id"]]

    assert main(["clients", "revoke", added["key_id"], "--database-url", database_url]) == 0
    capsys.readouterr()
    assert main(["clients", "list", "--database-url", database_url, "--active", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["clients", "revoke", "nobody", "--database-url", database_url]) == 1
    assert (
        main(["clients", "add", "--role", "department", "--name", "x", "--database-url", database_url]) == 2
    )


def test_dev_credentials_have_the_contract_shape(capsys, dev_keys):
    assert main(["dev", "credentials", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == dev_keys
    assert set(printed) == {"frontend", "window", "auditor", "admin", "department"}
    assert {"psb", "tax", "data_bureau"} <= set(printed["department"])


def test_dev_assertion_has_the_contract_shape(capsys):
    assert main(["dev", "assertion", "--persona", "complete", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["persona"] == "complete" and printed["id_number"] == "420102198803150137"
    assert printed["assertion"].count(".") == 2
    assert main(["dev", "assertion", "--persona", "nobody"]) == 2


@pytest.mark.parametrize(
    "command", [["dev", "credentials", "--json"], ["dev", "assertion", "--persona", "complete"]]
)
def test_dev_commands_refuse_outside_simulated_mode(monkeypatch, capsys, command):
    monkeypatch.setenv("PREFILL_SOURCES_MODE", "configured")
    assert main(command) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "simulated" in captured.err


GOOD_PRODUCTION = {
    "environment": "production",
    "sources_mode": "configured",
    "assertion_issuer": "https://idp.hubei.gov.cn",
    "assertion_keys": '{"keys": []}',
}


def _good_secrets() -> dict[str, str]:
    return {
        name: f"k{index:02d}-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
        for index, (name, field) in enumerate(Settings.model_fields.items())
        if "SecretStr" in str(field.annotation)
    } | {"data_encryption_key": "3f9a0c7e5b21d4468e0f7a9c3b5d1e2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4f"}


def test_production_refuses_development_and_placeholder_secrets():
    with pytest.raises(ValidationError) as caught:
        Settings(environment="production")
    message = str(caught.value)
    assert "sources_mode must be configured" in message
    assert "client_key_pepper is a development or placeholder value" in message
    assert "assertion_keys must be set" in message
    with pytest.raises(ValidationError, match="client_key_pepper"):
        Settings(
            **GOOD_PRODUCTION, **(_good_secrets() | {"client_key_pepper": "change-me-before-going-live"})
        )
    settings = Settings(**GOOD_PRODUCTION, **_good_secrets())
    assert settings.environment == "production"


def test_serve_refuses_a_production_configuration_with_placeholders(monkeypatch, capsys):
    monkeypatch.setenv("PREFILL_ENVIRONMENT", "production")
    assert main(["serve"]) == 2
    assert "production configuration refused" in capsys.readouterr().err
