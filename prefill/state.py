"""What the lifespan builds once and every request reaches through dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from prefill.catalog.service import CatalogueStore
from prefill.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    catalogues: CatalogueStore
