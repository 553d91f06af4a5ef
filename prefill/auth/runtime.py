"""The long-lived access-control objects, built once in the app's lifespan (``AppState.auth``)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from prefill.auth.assertions import AssertionVerifier, load_verification_keys
from prefill.auth.ratelimit import RateLimiter
from prefill.auth.service import ClientService, seed_dev_clients
from prefill.catalog.service import CatalogueStore
from prefill.settings import Settings

__all__ = ["AuthServices", "build_auth", "build_verifier", "catalogue_departments", "simulated_identity"]

log = logging.getLogger(__name__)


@dataclass
class AuthServices:
    clients: ClientService
    assertions: AssertionVerifier
    limiter: RateLimiter
    pseudonym_key: bytes = field(repr=False)  # keys the applicant pseudonyms of rate limits


def catalogue_departments(catalogues: CatalogueStore) -> list[str]:
    """Department codes of every theme: one demo department client each, and the valid codes."""
    return sorted({code for theme in catalogues.themes for code in catalogues.get(theme).departments})


def simulated_identity() -> tuple[str, str]:
    """``(issuer, JWKS JSON)`` of the simulated identity platform (same seed as the simulator's)."""
    from connectors.simulator.config import SimulatorConfig
    from connectors.simulator.identity import identity_jwks

    config = SimulatorConfig(secrets={})
    return config.identity_issuer, json.dumps(identity_jwks(config))


def build_verifier(settings: Settings, clock: Callable[[], float] = time.time) -> AssertionVerifier:
    issuer, keys = settings.assertion_issuer, settings.assertion_keys
    if settings.simulated and not (issuer and keys):
        simulated_issuer, simulated_keys = simulated_identity()
        issuer, keys = issuer or simulated_issuer, keys or simulated_keys
    return AssertionVerifier(
        load_verification_keys(keys),
        issuer=issuer,
        audience=settings.assertion_audience,
        max_age_s=settings.assertion_max_age_s,
        clock=clock,
    )


def build_auth(settings: Settings, engine: Engine, departments: Iterable[str]) -> AuthServices:
    """Build the services; in simulated mode, also make sure the demo clients exist."""
    departments = sorted(departments)
    clients = ClientService(
        engine, settings.client_key_pepper.get_secret_value().encode(), departments=departments
    )
    if settings.simulated:
        seeded = seed_dev_clients(clients, settings.dev_seed.encode(), departments)
        log.info("demo clients ready (prefill dev credentials)", extra={"clients": len(seeded)})
    return AuthServices(
        clients=clients,
        assertions=build_verifier(settings),
        limiter=RateLimiter(
            client_per_minute=settings.rate_limit_client_per_minute,
            subject_per_minute=settings.rate_limit_subject_per_minute,
        ),
        pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
    )
