"""The `prefill` command line."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from prefill import audit_cli
from prefill.auth import cli as auth_cli
from prefill.catalog.loader import CatalogueError
from prefill.settings import Settings, UnknownSettingError, load_settings

Handler = Callable[[argparse.Namespace], int]

# gc thresholds of the serving process: young generation every 10,000 net allocations (default 700).
SERVE_GC_THRESHOLDS = (10_000, 20, 20)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        database_url=getattr(args, "database_url", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from prefill.app import create_app
    from prefill.logs import configure_logging

    settings = _settings(args)
    configure_logging(settings.log_level)
    # The cyclic GC cost ~1.5 ms of CPU a prefill under load with the default thresholds, most of it
    # full collections re-scanning start-up objects (bench/, README "Performance"). Freeze those once
    # started, and collect the young generation every 10,000 allocations instead of 700.
    gc.set_threshold(*SERVE_GC_THRESHOLDS)
    app = create_app(settings, freeze_gc_after_start=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from prefill import db

    settings = _settings(args)
    db.upgrade(settings.resolved_database_url)
    print("database is at the latest revision")
    return 0


def cmd_catalog_report(args: argparse.Namespace) -> int:
    from prefill.catalog.loader import load_catalogue, packaged_catalogue_dir
    from prefill.catalog.report import format_report, plan_report

    settings = load_settings()
    report = plan_report(load_catalogue(args.theme, settings.catalog_dir or packaged_catalogue_dir()))
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prefill", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--database-url")
    serve.set_defaults(handler=cmd_serve)

    database = commands.add_parser("db", help="database maintenance").add_subparsers(dest="db", required=True)
    upgrade = database.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("--database-url")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    catalog = commands.add_parser("catalog", help="the bundle's catalogue").add_subparsers(
        dest="catalog", required=True
    )
    report = catalog.add_parser("report", help="the plan's before/after figures")
    report.add_argument("--theme", default="flexible-employment")
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.set_defaults(handler=cmd_catalog_report)

    auth_cli.register(commands)  # clients add|list|revoke, dev credentials|assertion
    audit_cli.register(commands)  # simulate, audit verify|export|public-key|verify-bundle
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (UnknownSettingError, CatalogueError, audit_cli.NoAuditLogError) as exc:
        print(f"prefill: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        print(f"prefill: invalid configuration: {problems}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    logging.basicConfig()
    sys.exit(main())
