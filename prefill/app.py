"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from prefill import db
from prefill.catalog.service import CatalogueStore
from prefill.errors import install_problem_handlers
from prefill.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from prefill.routers import catalog, health
from prefill.settings import Settings, load_settings
from prefill.state import AppState

log = logging.getLogger(__name__)


def build_state(settings: Settings) -> AppState:
    """Everything long-lived: checked catalogues, a migrated database. Raises when either is broken."""
    catalogues = CatalogueStore.load(settings.catalog_dir)
    url = settings.resolved_database_url
    db.upgrade(url)
    engine = db.make_engine(url)
    return AppState(settings=settings, engine=engine, catalogues=catalogues)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings)
        app.state.prefill = state
        log.info("service ready", extra={"themes": state.catalogues.themes})
        try:
            yield
        finally:
            state.engine.dispose()

    app = FastAPI(
        title="灵活就业一件事 prefill service",
        summary="Prefills a one-thing bundle's merged form from departments' shared data, and audits it.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(catalog.router)
    return app
