"""Dependencies that hand the lifespan's long-lived objects to the routers."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from prefill.catalog.service import CatalogueStore
from prefill.settings import Settings
from prefill.state import AppState


def get_state(request: Request) -> AppState:
    return cast(AppState, request.app.state.prefill)


def get_settings(request: Request) -> Settings:
    return get_state(request).settings


def get_engine(request: Request) -> Engine:
    return get_state(request).engine


def get_catalogues(request: Request) -> CatalogueStore:
    return get_state(request).catalogues


# The dependencies themselves are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool,
# and a hop there and back for an attribute read cost more than the read (profiled: bench/, README).
# The functions above stay plain, for callers that already hold the request.
async def _state(request: Request) -> AppState:
    return get_state(request)


async def _settings(request: Request) -> Settings:
    return get_settings(request)


async def _engine(request: Request) -> Engine:
    return get_engine(request)


async def _catalogues(request: Request) -> CatalogueStore:
    return get_catalogues(request)


StateDep = Annotated[AppState, Depends(_state)]
SettingsDep = Annotated[Settings, Depends(_settings)]
EngineDep = Annotated[Engine, Depends(_engine)]
CatalogueDep = Annotated[CatalogueStore, Depends(_catalogues)]
