"""The outbound side of the service, built once in the lifespan: the shared HTTP client, the
department sources, the certificate library client, and — in simulated mode — the simulated
departments themselves, served on loopback so that every read is real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import uvicorn

from certificates.lookup import CertificateLibraryClient, LibraryCredentials, LookupEvent
from certificates.trust import TrustStore
from certificates.verify import VerificationCache
from connectors.base import Source
from connectors.config import SourceConfig, load_sources
from connectors.registry import build_sources
from connectors.simulator.app import create_simulator_app
from connectors.simulator.config import SimulatorConfig
from connectors.transport import create_client
from masking import pseudonym
from prefill.settings import Settings

log = logging.getLogger(__name__)

LookupAuditor = Callable[[LookupEvent], Awaitable[None]]


class SimulatorServer:
    """The simulated departments on a loopback port, inside the service's event loop."""

    def __init__(self, port: int, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.app = create_simulator_app(self.config)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
            )
        )
        self._task: asyncio.Task[None] | None = None
        self.base_url: str | None = None  # known once started (the port may be chosen by the OS)

    async def start(self) -> str:
        self._task = asyncio.create_task(self._server.serve(), name="simulator")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # re-raises the start-up failure (e.g. port in use)
                raise RuntimeError("the simulator stopped while starting")
            await asyncio.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        # Simulated departments hold no state worth a graceful drain: a slow persona's pending answer
        # would otherwise keep shutdown waiting for it.
        self._server.should_exit = True
        self._server.force_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class Runtime:
    http: httpx.AsyncClient
    sources: dict[str, Source]
    certificates: CertificateLibraryClient
    verification_cache: VerificationCache
    simulator: SimulatorServer | None = None
    _trust_store: TrustStore | None = field(default=None, repr=False)
    # What the sources were built from, so the shared-field registry can rebuild one with more fields.
    source_configs: dict[str, SourceConfig] = field(default_factory=dict)
    pseudonymize: Callable[[str], str] | None = field(default=None, repr=False)

    async def trust_store(self) -> TrustStore:
        """The issuers' keys, as published by the library; fetched once, then kept."""
        if self._trust_store is None:
            self._trust_store = await self.certificates.fetch_trust_store()
        return self._trust_store

    async def aclose(self) -> None:
        await self.http.aclose()
        if self.simulator is not None:
            await self.simulator.stop()


async def start_runtime(settings: Settings, on_certificate_lookup: LookupAuditor) -> Runtime:
    """Start the simulator when simulated, then the client, sources and certificate library client."""
    simulator: SimulatorServer | None = None
    base_url = settings.sources_base_url
    if settings.simulated:
        simulator = SimulatorServer(settings.simulator_port)
        started_at = await simulator.start()
        base_url = base_url or started_at
        log.info("simulated department sources started", extra={"base_url": started_at})
    configs = load_sources(settings.sources_file, base_url_override=base_url)
    http = create_client()
    key = settings.pseudonym_key.get_secret_value().encode()

    def pseudonymize(id_number: str) -> str:
        return pseudonym(id_number, key)

    sources = build_sources(configs, http, pseudonymize=pseudonymize)
    library_url = settings.certificate_library_url or base_url or next(iter(configs.values())).base_url
    credentials = LibraryCredentials(
        app_key=settings.certificate_library_app_key,
        secret=settings.certificate_library_secret.get_secret_value(),
    )
    certificates = CertificateLibraryClient(
        http, library_url, on_lookup=on_certificate_lookup, credentials=credentials
    )
    return Runtime(
        http=http,
        sources=sources,
        certificates=certificates,
        verification_cache=VerificationCache(),
        simulator=simulator,
        source_configs=configs,
        pseudonymize=pseudonymize,
    )
