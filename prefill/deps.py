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


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
CatalogueDep = Annotated[CatalogueStore, Depends(get_catalogues)]
