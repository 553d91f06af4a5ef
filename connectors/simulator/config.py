"""Configuration and mutable state of the simulated department sources."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache

from connectors.config import load_sources

ACCEPTANCE_SOURCE = "unified_acceptance"
"""Fault-injection key of the unified acceptance platform."""

DEV_ACCEPTANCE_APP_KEY = "prefill-acceptance"
DEV_ACCEPTANCE_SECRET = "dev-secret-acceptance"  # noqa: S105 - simulated-mode development secret
DEV_ECERT_APP_KEY = "prefill-ecert"
DEV_ECERT_SECRET = "dev-secret-ecert"  # noqa: S105 - simulated-mode development secret


@dataclass
class Fault:
    """Injected fault of one simulated source: extra latency, a share of 503 answers, or down (503)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    down: bool = False

    def is_active(self) -> bool:
        return self.latency_ms > 0 or self.error_rate > 0 or self.down


def default_secrets() -> dict[str, str]:
    """App key → secret of every configured source plus the acceptance platform (development values)."""
    secrets = {cfg.credentials.app_key: cfg.credentials.resolved_secret() for cfg in load_sources().values()}
    secrets[DEV_ACCEPTANCE_APP_KEY] = DEV_ACCEPTANCE_SECRET
    secrets[DEV_ECERT_APP_KEY] = DEV_ECERT_SECRET
    return secrets


@dataclass
class SimulatorConfig:
    """Everything the simulator needs; ``clock`` is epoch seconds (signature freshness, receipts, JWTs)."""

    secrets: dict[str, str] = field(default_factory=default_secrets)
    faults: dict[str, Fault] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    signature_max_age_s: float = 300.0
    require_signatures: bool = True
    identity_seed: bytes = b"prefill simulated identity platform dev key"
    identity_issuer: str = "https://idp.simulated.hubei.example"
    identity_audience: str = "prefill-service"
    assertion_ttl_s: int = 600
    random_seed: int = 0
    serve_population: bool = True
    """Also answer for generated synthetic citizens (``population.generated_id_number``), e.g. for load."""
    persona_latency_scale: float = 1.0
    """Multiplies persona latencies (the slow-source persona's 5 s); tests may shrink it."""


class SimulatorState:
    """Per-app mutable state (faults, replay guard, received applications), held on ``app.state``."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.faults: dict[str, Fault] = {k: Fault(**vars(v)) for k, v in config.faults.items()}
        self.rng = random.Random(config.random_seed)  # fault dice only
        self.seen_nonces: TTLCache[tuple[str, str], bool] = TTLCache(
            maxsize=500_000, ttl=2 * config.signature_max_age_s, timer=config.clock
        )
        self.received: dict[str, dict[str, Any]] = {}
        """Idempotency key → stored receipt and form (unified acceptance platform)."""

    def fault(self, source: str) -> Fault:
        return self.faults.get(source, Fault())
