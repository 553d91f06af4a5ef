"""Building the registry in the app's lifespan: its service and the effective view the prefill uses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from connectors.base import Source
from connectors.codesets import CodeSets, load_code_sets
from connectors.config import SourceConfig
from connectors.http import HttpSource
from prefill.catalog.service import CatalogueStore
from prefill.registry.effective import EffectiveRegistry
from prefill.registry.service import RegistryService
from prefill.runtime import Runtime

__all__ = ["RegistryServices", "build_registry"]


@dataclass
class RegistryServices:
    service: RegistryService
    effective: EffectiveRegistry


def build_registry(
    engine: Engine, catalogues: CatalogueStore, runtime: Runtime, *, max_staleness_s: float = 1.0
) -> RegistryServices:
    configs = runtime.source_configs or {
        source_id: source.config
        for source_id, source in runtime.sources.items()
        if isinstance(source, HttpSource)
    }
    pseudonymize = runtime.pseudonymize

    def build_source(config: SourceConfig, code_sets: CodeSets) -> Source:
        if pseudonymize is None:
            raise RuntimeError("the runtime was built without a pseudonymiser; sources cannot be rebuilt")
        return HttpSource(config, runtime.http, pseudonymize=pseudonymize, code_sets=code_sets)

    service = RegistryService(engine, catalogues, configs)
    effective = EffectiveRegistry(
        catalogues=catalogues,
        configs=configs,
        sources=runtime.sources,
        code_sets=load_code_sets(),
        build_source=build_source,
        reader=service,
        max_staleness_s=max_staleness_s,
    )
    service.subscribe(effective.invalidate)
    return RegistryServices(service=service, effective=effective)
