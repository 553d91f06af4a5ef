"""What the lifespan builds for applications: the submission service and the delivery worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from prefill.applications.crypto import ValueCipher
from prefill.applications.outbox import AcceptanceEndpoint, DeliveryWorker
from prefill.applications.service import ApplicationService
from prefill.catalog.loader import Catalogue
from prefill.runtime import Runtime
from prefill.settings import Settings
from prefill.tokens import PrefillTokenSigner

__all__ = ["Applications", "acceptance_base_url", "build_applications"]


@dataclass
class Applications:
    service: ApplicationService
    worker: DeliveryWorker

    def start(self) -> None:
        """Start delivering; resumes whatever the outbox holds from before a restart."""
        self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()


def acceptance_base_url(settings: Settings, runtime: Runtime) -> str:
    """The platform's base URL: configured, else the sources' base URL, else the in-process simulator's."""
    url = settings.acceptance_url or settings.sources_base_url
    if not url and runtime.simulator is not None:
        url = runtime.simulator.base_url
    if not url:
        raise ValueError("PREFILL_ACCEPTANCE_URL must be set when the sources are not simulated")
    return url


def build_applications(
    settings: Settings,
    engine: Engine,
    catalogue_for: Callable[[str], Catalogue],
    signer: PrefillTokenSigner,
    runtime: Runtime,
) -> Applications:
    cipher = ValueCipher.from_hex(settings.data_encryption_key.get_secret_value())
    endpoint = AcceptanceEndpoint(
        base_url=acceptance_base_url(settings, runtime),
        app_key=settings.acceptance_app_key,
        secret=settings.acceptance_secret.get_secret_value(),
    )
    worker = DeliveryWorker(engine, runtime.http, endpoint, cipher)
    service = ApplicationService(engine, catalogue_for, signer, cipher, on_submitted=worker.notify)
    return Applications(service=service, worker=worker)
