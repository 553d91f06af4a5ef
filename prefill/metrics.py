"""Prometheus metrics of one app: built in the lifespan on the app's own ``CollectorRegistry``.

Labels are source ids, outcome names, certificate types and fixed result words — never personal values,
pseudonyms or request ids (unbounded or personal label values would leak data and explode series).
The prefill layer records; connectors know nothing of metrics. Breaker states are read from the sources
at scrape time, so they are exact whenever Prometheus looks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from connectors.base import Source, SourceResult
from connectors.resilience import BreakerState

__all__ = ["CACHE_HIT", "CONTENT_TYPE", "PrefillMetrics", "SourceBreakerCollector"]

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
CACHE_HIT: Final = "cache_hit"
"""Outcome label of a read answered from the connector's cache (kept apart: it never left the service)."""

# Loopback reads take a few ms, real department reads tens to hundreds; the deadline is seconds.
_SOURCE_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_AUDIT_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class SourceBreakerCollector(Collector):
    """``prefill_source_breaker_state{source, state}``: 1 for each source's current state, else 0."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self._sources = sources

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        for source_id in sorted(self._sources):
            current = getattr(self._sources[source_id], "breaker_state", None)
            if not isinstance(current, BreakerState):
                continue  # a source without a breaker (e.g. a test double)
            for state in BreakerState:
                family.add_metric([source_id, state.value], 1.0 if state is current else 0.0)
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "prefill_source_breaker_state",
            "Circuit breaker state of each department source (1 = current state).",
            labels=["source", "state"],
        )


class PrefillMetrics:
    """The service's instruments, on a registry of its own (one per app, so tests never share state)."""

    def __init__(self, sources: Mapping[str, Source] | None = None, *, process: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.source_read_seconds = Histogram(
            "prefill_source_read_seconds",
            "Latency of each department source read of a prefill, by source and outcome.",
            ["source", "outcome"],
            buckets=_SOURCE_BUCKETS,
            registry=self.registry,
        )
        self.source_cache = Counter(
            "prefill_source_cache_lookups",
            "Source reads answered from the connector cache (hit) or from the department (miss).",
            ["source", "result"],
            registry=self.registry,
        )
        self.certificate_check_seconds = Histogram(
            "prefill_certificate_check_seconds",
            "Latency of each certificate lookup and verification of a prefill, by type and result.",
            ["certificate_type", "result"],
            buckets=_SOURCE_BUCKETS,
            registry=self.registry,
        )
        self.audit_append_seconds = Histogram(
            "prefill_audit_append_seconds",
            "Time to durably append a prefill's audit records (group commit), by result.",
            ["result"],
            buckets=_AUDIT_BUCKETS,
            registry=self.registry,
        )
        self.audit_records = Counter(
            "prefill_audit_records_appended",
            "Audit records appended by prefills.",
            registry=self.registry,
        )
        self.prefill_seconds = Histogram(
            "prefill_request_seconds",
            "End-to-end time of a prefill (reads, audit, mapping, token), by theme and result.",
            ["theme", "result"],
            buckets=_SOURCE_BUCKETS,
            registry=self.registry,
        )
        if sources is not None:
            self.registry.register(SourceBreakerCollector(sources))
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def observe_reads(self, results: Iterable[SourceResult]) -> None:
        for result in results:
            outcome = CACHE_HIT if result.from_cache else result.outcome.value
            self.source_read_seconds.labels(result.source, outcome).observe(result.latency_ms / 1000)
            self.source_cache.labels(result.source, "hit" if result.from_cache else "miss").inc()

    def observe_certificate(self, certificate_type: str, result: str, seconds: float) -> None:
        self.certificate_check_seconds.labels(certificate_type, result).observe(seconds)

    def observe_audit_append(self, seconds: float, records: int, *, ok: bool) -> None:
        self.audit_append_seconds.labels("ok" if ok else "failed").observe(seconds)
        if ok:
            self.audit_records.inc(records)

    def observe_prefill(self, theme: str, result: str, seconds: float) -> None:
        self.prefill_seconds.labels(theme, result).observe(seconds)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)

    def samples(self) -> Iterator[tuple[str, dict[str, str], float]]:
        """Every sample as ``(name, labels, value)`` (for tests and the benchmark)."""
        for family in self.registry.collect():
            for sample in family.samples:
                yield sample.name, dict(sample.labels), sample.value
