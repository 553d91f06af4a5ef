"""What the lifespan builds once and every request reaches through dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from audit.service import AuditLog
from prefill.applications.runtime import Applications
from prefill.auth.runtime import AuthServices
from prefill.catalog.service import CatalogueStore
from prefill.checkpoints import CheckpointScheduler
from prefill.metrics import PrefillMetrics
from prefill.prefilling.service import PrefillService
from prefill.registry.runtime import RegistryServices
from prefill.runtime import Runtime
from prefill.settings import Settings
from prefill.tokens import PrefillTokenSigner


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    catalogues: CatalogueStore
    audit_log: AuditLog
    runtime: Runtime
    signer: PrefillTokenSigner
    prefill: PrefillService
    auth: AuthServices
    metrics: PrefillMetrics
    applications: Applications
    registry: RegistryServices
    checkpoints: CheckpointScheduler
