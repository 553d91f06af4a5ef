"""What the prefill flow reads through: the effective catalogue and sources of the current registry
generation, rebuilt when the registry changes — no restart.

A change made in this process invalidates at once; a change made by another process is seen within
``max_staleness_s`` (the generation is one indexed read, made at most that often).

Rebuilding happens only in :meth:`EffectiveRegistry.catalogue_for`, never in :meth:`sources`: the
prefill flow takes the catalogue and then the sources with no await in between, so both come from the
same generation and every field the catalogue assigns to a source is one that source is built for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from connectors.base import Source
from connectors.codesets import CodeSets
from connectors.config import SourceConfig
from connectors.http import HttpSource
from prefill.catalog.loader import Catalogue
from prefill.catalog.service import CatalogueStore
from prefill.registry.overlay import EMPTY, Overlay, RegistrySnapshot, apply_registry

__all__ = ["BuildSource", "EffectiveRegistry", "RegistryReader"]

log = logging.getLogger(__name__)

BuildSource = Callable[[SourceConfig, CodeSets], Source]


class RegistryReader(Protocol):
    def generation(self) -> int: ...

    def snapshot(self) -> RegistrySnapshot: ...


class EffectiveRegistry:
    def __init__(
        self,
        *,
        catalogues: CatalogueStore,
        configs: Mapping[str, SourceConfig],
        sources: Mapping[str, Source],
        code_sets: CodeSets,
        build_source: BuildSource,
        reader: RegistryReader,
        max_staleness_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalogues = catalogues
        self._configs = configs
        self._base_sources = dict(sources)
        self._code_sets = code_sets
        self._build = build_source
        self._reader = reader
        self._max_staleness_s = max_staleness_s
        self._monotonic = monotonic
        self._dirty = True
        self._checked_at = float("-inf")
        self._overlay: Overlay = self._apply(EMPTY)
        self._sources: dict[str, Source] = dict(self._base_sources)

    @property
    def generation(self) -> int:
        return self._overlay.generation

    def invalidate(self) -> None:
        """The registry changed in this process: the next prefill rebuilds (any thread may call it)."""
        self._dirty = True

    def catalogue_for(self, theme: str) -> Catalogue:
        base = self._catalogues.get(theme)  # unknown theme: the usual 404 problem
        self._refresh()
        return self._overlay.catalogues.get(theme, base)

    def sources(self) -> Mapping[str, Source]:
        return self._sources

    def _apply(self, snapshot: RegistrySnapshot) -> Overlay:
        catalogues = {theme: self._catalogues.get(theme) for theme in self._catalogues.themes}
        return apply_registry(catalogues, self._configs, self._code_sets, snapshot)

    def _refresh(self) -> None:
        now = self._monotonic()
        if not self._dirty and now - self._checked_at < self._max_staleness_s:
            return
        self._dirty = False
        try:
            if self._reader.generation() == self._overlay.generation:
                self._checked_at = now
                return
            overlay = self._apply(self._reader.snapshot())
        except Exception as exc:  # keep serving the last good registry; the next call tries again
            self._dirty = True
            log.warning("registry refresh failed", extra={"error_type": type(exc).__name__})
            return
        self._checked_at = now
        self._rebuild_sources(overlay)
        self._overlay = overlay
        for reason in overlay.skipped:
            log.warning("registry rule not applied", extra={"reason": reason})
        log.info("registry applied", extra={"generation": overlay.generation})

    def _rebuild_sources(self, overlay: Overlay) -> None:
        """A new ``HttpSource`` only where the configuration changed; the others keep their objects
        (breakers, caches, concurrency limits). A rebuilt source keeps its predecessor's breaker: the
        department's health does not change with its field list."""
        current = self._overlay.source_configs
        rebuilt: dict[str, Source] = {}
        for source_id, config in overlay.source_configs.items():
            if config is self._configs.get(source_id):
                rebuilt[source_id] = self._base_sources[source_id]
            elif current.get(source_id) == config and source_id in self._sources:
                rebuilt[source_id] = self._sources[source_id]
            else:
                source = self._build(config, overlay.code_sets)
                previous = self._sources.get(source_id)
                if isinstance(source, HttpSource) and isinstance(previous, HttpSource):
                    source.breaker = previous.breaker
                rebuilt[source_id] = source
        self._sources = rebuilt
