"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from audit.service import AuditLog
from certificates.catalog import load_certificate_types
from certificates.waivers import load_waivers
from connectors.clock import SystemClock
from prefill import db
from prefill.applications.runtime import build_applications
from prefill.auth.policy import install_access_control
from prefill.auth.runtime import build_auth, catalogue_departments
from prefill.catalog.loader import ASSERTION
from prefill.catalog.service import CatalogueStore
from prefill.checkpoints import CheckpointScheduler
from prefill.errors import install_problem_handlers
from prefill.keys import audit_signing_key
from prefill.metrics import PrefillMetrics
from prefill.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from prefill.prefilling.audit_events import certificate_lookup_auditor
from prefill.prefilling.service import PrefillService
from prefill.registry.runtime import build_registry
from prefill.routers import applications as application_routes
from prefill.routers import audit as audit_routes
from prefill.routers import catalog, health, metrics
from prefill.routers import prefill as prefill_routes
from prefill.routers import registry as registry_routes
from prefill.runtime import Runtime, start_runtime
from prefill.settings import Settings, load_settings
from prefill.state import AppState
from prefill.tokens import PrefillTokenSigner

log = logging.getLogger(__name__)


def check_sources_cover_catalogues(catalogues: CatalogueStore, runtime: Runtime) -> None:
    """Every source a catalogue reads from must be configured; found at start, not at the first prefill."""
    for theme in catalogues.themes:
        for spec in catalogues.get(theme).fields.values():
            if spec.provided_by in (None, ASSERTION):
                continue
            source = runtime.sources.get(spec.provided_by)
            if source is None or spec.code not in source.provides:
                raise ValueError(
                    f"catalogue {theme}: field {spec.code!r} is provided by {spec.provided_by!r}, "
                    "which is not configured to provide it"
                )


def check_certificates_known(catalogues: CatalogueStore) -> None:
    """The catalogue waives materials on certificate types the certificates package can look up, and on
    the same terms as its own waiver data: two statements of one rule may not drift apart."""
    types, waivers = load_certificate_types(), load_waivers()
    for theme in catalogues.themes:
        catalogue = catalogues.get(theme)
        for material in catalogue.materials.values():
            for waiver in material.waivable_by:
                if waiver.certificate is None:
                    continue
                if waiver.certificate not in types:
                    raise ValueError(f"catalogue {theme}: unknown certificate type {waiver.certificate!r}")
                if material.code not in waivers.materials_for(waiver.certificate):
                    raise ValueError(
                        f"catalogue {theme}: {material.code!r} waivable by {waiver.certificate!r}, "
                        "which certificates/data/waivers.yaml does not allow"
                    )


async def build_state(settings: Settings) -> AppState:
    """Everything long-lived: checked catalogues, a migrated database, the audit log, the outbound
    runtime. Raises when any of them is broken, so that a broken service does not start."""
    catalogues = CatalogueStore.load(settings.catalog_dir)
    check_certificates_known(catalogues)
    url = settings.resolved_database_url
    db.upgrade(url)
    engine = db.make_engine(url)
    audit_log = AuditLog(
        engine, signing_key=audit_signing_key(settings), checkpoint_every=settings.audit_checkpoint_every
    )
    runtime = await start_runtime(settings, certificate_lookup_auditor(audit_log))
    try:
        check_sources_cover_catalogues(catalogues, runtime)
        return _assemble(settings, catalogues, engine, audit_log, runtime)
    except BaseException:
        # A start that fails half-way leaves no simulator port bound and no connection open.
        await runtime.aclose()
        await audit_log.aclose()
        engine.dispose()
        raise


def _assemble(
    settings: Settings, catalogues: CatalogueStore, engine: Engine, audit_log: AuditLog, runtime: Runtime
) -> AppState:
    prefill_metrics = PrefillMetrics(runtime.sources)
    signer = PrefillTokenSigner(settings.token_key.get_secret_value().encode(), settings.prefill_token_ttl_s)
    registry = build_registry(engine, catalogues, runtime)
    prefill_service = PrefillService(
        catalogues=catalogues,
        runtime=runtime,
        audit_log=audit_log,
        signer=signer,
        pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
        deadline_s=settings.prefill_deadline_s,
        clock=SystemClock(),
        metrics=prefill_metrics,
        # The shared-field registry's effective catalogue and sources: its changes show without a restart.
        catalogue_for=registry.effective.catalogue_for,
        sources=registry.effective.sources,
    )
    return AppState(
        settings=settings,
        engine=engine,
        catalogues=catalogues,
        audit_log=audit_log,
        runtime=runtime,
        signer=signer,
        prefill=prefill_service,
        auth=build_auth(settings, engine, catalogue_departments(catalogues)),
        metrics=prefill_metrics,
        applications=build_applications(settings, engine, registry.effective.catalogue_for, signer, runtime),
        registry=registry,
        checkpoints=CheckpointScheduler(audit_log, settings.audit_checkpoint_interval_s),
    )


async def close_state(state: AppState) -> None:
    await state.applications.stop()  # before the HTTP client and the engine it uses go
    await state.checkpoints.stop()  # signs what was appended since the last checkpoint
    await state.runtime.aclose()
    await state.audit_log.aclose()
    state.engine.dispose()


def freeze_startup_objects() -> None:
    """Move everything alive after start-up (modules, catalogues, pydantic schemas, SQLAlchemy and
    FastAPI structures: ~155,000 objects) out of the cyclic collector's reach, so that its full
    collections scan only what requests create. Nothing changes for reference counting; frozen objects
    simply are never scanned for cycles again. For the serving process only (``prefill serve``): a test
    process that builds many apps would keep each one's cyclic garbage."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, freeze_gc_after_start: bool = False) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await build_state(settings)
        app.state.prefill = state
        state.applications.start()  # resumes deliveries left pending before a restart
        state.checkpoints.start()
        if freeze_gc_after_start:
            freeze_startup_objects()
        log.info("service ready", extra={"themes": state.catalogues.themes})
        try:
            yield
        finally:
            await close_state(state)

    app = FastAPI(
        title="灵活就业一件事 prefill service",
        summary="Prefills a one-thing bundle's merged form from departments' shared data, and audits it.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_access_control(app)  # before any router: every API route gets the matrix check
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(catalog.router)
    app.include_router(metrics.router)
    app.include_router(prefill_routes.router)
    app.include_router(application_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(registry_routes.router)
    return app
