"""`prefill clients add|list|revoke` and `prefill dev credentials|assertion`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from prefill.auth.service import Client, ClientService, Role, dev_credentials
from prefill.errors import ServiceError
from prefill.settings import Settings, load_settings

__all__ = ["register"]


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(database_url=getattr(args, "database_url", None))


def _departments(settings: Settings) -> list[str]:
    from prefill.auth.runtime import catalogue_departments
    from prefill.catalog.service import CatalogueStore

    return catalogue_departments(CatalogueStore.load(settings.catalog_dir))


def _service(settings: Settings) -> ClientService:
    from prefill import db

    url = settings.resolved_database_url
    db.upgrade(url)
    return ClientService(
        db.make_engine(url),
        settings.client_key_pepper.get_secret_value().encode(),
        departments=_departments(settings),
    )


def _client_dict(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "role": client.role.value,
        "department": client.department,
        "key_id": client.key_id,
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


def _fail(message: str, status: int = 2) -> int:
    print(f"prefill: {message}", file=sys.stderr)
    return status


def cmd_clients_add(args: argparse.Namespace) -> int:
    try:
        issued = _service(_settings(args)).add(args.name, args.role, args.department)
    except ServiceError as exc:
        return _fail(exc.detail)
    if args.json:
        print(json.dumps({**_client_dict(issued.client), "key": issued.key}, ensure_ascii=False))
    else:
        client = issued.client
        print(f"client {client.id} ({client.name}, {client.role.value}) added")
        print(f"key: {issued.key}")
        print("The key is shown this once and stored only as a hash: keep it now.", file=sys.stderr)
    return 0


def cmd_clients_list(args: argparse.Namespace) -> int:
    clients = _service(_settings(args)).list(include_revoked=not args.active)
    if args.json:
        print(json.dumps([_client_dict(c) for c in clients], ensure_ascii=False, indent=2))
        return 0
    for c in clients:
        state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
        print(f"{c.id}  {c.key_id}  {c.role.value:<10}  {c.department or '-':<24}  {state:<24}  {c.name}")
    return 0


def cmd_clients_revoke(args: argparse.Namespace) -> int:
    try:
        client = _service(_settings(args)).revoke(args.client)
    except ServiceError as exc:
        return _fail(exc.detail, 1)
    print(f"client {client.id} ({client.name}) revoked at {client.revoked_at:%Y-%m-%d %H:%M:%S%z}")
    return 0


def _refuse_unless_simulated(settings: Settings, what: str) -> int | None:
    if settings.simulated:
        return None
    return _fail(f"{what} exists only with the simulated sources (PREFILL_SOURCES_MODE=simulated)")


def cmd_dev_credentials(args: argparse.Namespace) -> int:
    settings = load_settings()
    if (refused := _refuse_unless_simulated(settings, "dev credentials")) is not None:
        return refused
    credentials = dev_credentials(settings.dev_seed.encode(), _departments(settings))
    if args.json:
        print(json.dumps(credentials, indent=2))
        return 0
    for role, key in credentials.items():
        if isinstance(key, dict):
            for department, department_key in key.items():
                print(f"{role}:{department}  {department_key}")
        else:
            print(f"{role}  {key}")
    return 0


def cmd_dev_assertion(args: argparse.Namespace) -> int:
    settings = load_settings()
    if (refused := _refuse_unless_simulated(settings, "dev assertion")) is not None:
        return refused
    from connectors.simulator.config import SimulatorConfig
    from connectors.simulator.identity import issue_assertion
    from connectors.simulator.personas import PERSONAS

    persona = PERSONAS.get(args.persona)
    if persona is None:
        return _fail(f"unknown persona {args.persona!r}; known: {', '.join(PERSONAS)}")
    config = SimulatorConfig(secrets={})
    token = issue_assertion(config, persona.id_number, audience=settings.assertion_audience)
    if args.json:
        print(json.dumps({"persona": args.persona, "id_number": persona.id_number, "assertion": token}))
    else:
        print(token)
    return 0


def register(commands: Any) -> None:
    """Add the `clients` and `dev` commands to the `prefill` parser's subcommands."""
    clients = commands.add_parser("clients", help="manage client keys").add_subparsers(
        dest="clients", required=True
    )
    add = clients.add_parser("add", help="register a client; prints its key once")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--department", help="department code (department clients only)")
    add.add_argument("--name", required=True, help="who the client is, e.g. 'Wuhan citizen portal'")
    add.add_argument("--database-url")
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(handler=cmd_clients_add)

    listing = clients.add_parser("list", help="list clients (never their keys)")
    listing.add_argument("--active", action="store_true", help="leave out revoked clients")
    listing.add_argument("--database-url")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_clients_list)

    revoke = clients.add_parser("revoke", help="revoke a client's key at once")
    revoke.add_argument("client", help="client id or key id")
    revoke.add_argument("--database-url")
    revoke.set_defaults(handler=cmd_clients_revoke)

    dev = commands.add_parser("dev", help="development helpers (simulated mode only)").add_subparsers(
        dest="dev", required=True
    )
    credentials = dev.add_parser("credentials", help="the demo clients' keys, one per role")
    credentials.add_argument("--json", action="store_true", help="machine-readable output")
    credentials.set_defaults(handler=cmd_dev_credentials)

    assertion = dev.add_parser("assertion", help="an applicant assertion for a test persona")
    assertion.add_argument("--persona", required=True)
    assertion.add_argument("--json", action="store_true", help="machine-readable output")
    assertion.set_defaults(handler=cmd_dev_assertion)
