"""Build all configured sources with one shared, injected ``httpx.AsyncClient``."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from connectors.base import Source
from connectors.clock import Clock, SystemClock
from connectors.codesets import CodeSets, load_code_sets
from connectors.config import SourceConfig
from connectors.http import HttpSource, Pseudonymize


def build_sources(
    configs: Mapping[str, SourceConfig],
    client: httpx.AsyncClient,
    *,
    clock: Clock | None = None,
    pseudonymize: Pseudonymize,
    code_sets: CodeSets | None = None,
) -> dict[str, Source]:
    """One ``HttpSource`` per configuration entry; build once in the app's lifespan (they hold the
    breakers, caches and concurrency limits)."""
    clock = clock or SystemClock()
    code_sets = code_sets or load_code_sets()
    return {
        source_id: HttpSource(cfg, client, pseudonymize=pseudonymize, clock=clock, code_sets=code_sets)
        for source_id, cfg in configs.items()
    }
