"""`prefill audit verify|export|verify-bundle` and `prefill simulate`: operator commands."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from audit.bundle import verify_bundle
from audit.chain import load_public_key, public_key_bytes
from audit.schemas import Requester, VerifyResult
from audit.service import AuditLog
from audit.store import AuditStore
from prefill import db
from prefill.keys import audit_signing_key
from prefill.settings import load_settings

CLI_ACTOR = Requester(client_id="cli", role="admin")


def _signing_key(args: argparse.Namespace) -> Ed25519PrivateKey:
    return audit_signing_key(load_settings(database_url=getattr(args, "database_url", None)))


class NoAuditLogError(Exception):
    """The database holds no audit log (not migrated, or the wrong URL)."""


def _engine_with_audit_log(database_url: str | None) -> Engine:
    engine = db.make_engine(load_settings(database_url=database_url).resolved_database_url)
    if not inspect(engine).has_table("audit_records"):
        engine.dispose()
        raise NoAuditLogError("no audit log in that database: start the service or run `prefill db upgrade`")
    return engine


def report(result: VerifyResult, what: str, *, as_json: bool) -> int:
    """Print a verification result; exit status 0 when intact, 1 naming the first bad record."""
    if as_json:
        print(json.dumps(result.summary()))
    elif result.ok:
        print(f"{what} intact: {result.records} records, {result.checkpoints} checkpoints")
    else:
        print(f"{what} FAILED at seq {result.first_bad_seq}: {result.reason}")
    return 0 if result.ok else 1


def cmd_verify(args: argparse.Namespace) -> int:
    engine = _engine_with_audit_log(args.database_url)
    try:
        result = AuditStore(engine, public_keys=[_signing_key(args).public_key()]).verify()
    finally:
        engine.dispose()
    return report(result, "audit log", as_json=args.json)


def cmd_export(args: argparse.Namespace) -> int:
    engine = _engine_with_audit_log(args.database_url)
    log = AuditLog(engine, signing_key=_signing_key(args))

    async def export(stream: TextIO) -> int:
        try:
            return await log.export(stream, actor=CLI_ACTOR)
        finally:
            await log.aclose()

    try:
        if args.output == "-":
            lines = asyncio.run(export(sys.stdout))
        else:
            with Path(args.output).open("w", encoding="utf-8") as stream:
                lines = asyncio.run(export(stream))
    finally:
        engine.dispose()
    if args.output != "-":
        print(f"wrote {lines} lines to {args.output}", file=sys.stderr)
    return 0


def cmd_public_key(args: argparse.Namespace) -> int:
    print(base64.b64encode(public_key_bytes(_signing_key(args).public_key())).decode())
    return 0


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    public_key = load_public_key(args.public_key)
    with Path(args.bundle).open(encoding="utf-8") as lines:
        result = verify_bundle(lines, public_key)
    return report(result, "bundle", as_json=args.json)


def cmd_simulate(args: argparse.Namespace) -> int:
    import uvicorn

    from connectors.simulator.app import create_simulator_app
    from prefill.logs import configure_logging

    settings = load_settings()
    if not settings.simulated:
        print(
            "prefill: `simulate` runs the simulated departments; sources_mode is configured", file=sys.stderr
        )
        return 2
    configure_logging(settings.log_level)
    port = args.port or settings.simulator_port
    uvicorn.run(create_simulator_app(), host=args.host, port=port, log_config=None, access_log=False)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    simulate = commands.add_parser("simulate", help="run the simulated department sources on their own")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int)
    simulate.set_defaults(handler=cmd_simulate)

    audit = commands.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit", required=True
    )
    verify = audit.add_parser(
        "verify", help="check the hash chain and checkpoints (exit 1 names the bad seq)"
    )
    verify.add_argument("--database-url")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)

    export = audit.add_parser("export", help="write a bundle that verifies offline with the public key")
    export.add_argument("--database-url")
    export.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    export.set_defaults(handler=cmd_export)

    public = audit.add_parser("public-key", help="print the checkpoint-signing public key (base64)")
    public.set_defaults(handler=cmd_public_key)

    bundle = audit.add_parser("verify-bundle", help="verify an exported bundle offline")
    bundle.add_argument("bundle")
    bundle.add_argument("--public-key", required=True, help="the public key (base64 or PEM)")
    bundle.add_argument("--json", action="store_true")
    bundle.set_defaults(handler=cmd_verify_bundle)
