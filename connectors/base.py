"""The ``Source`` port and its result types.

A source is one department's shared data service. Reading it yields, per canonical field code
(docs/contracts.md), a value with provenance, plus one outcome for the whole read and whether it was
answered from the cache (so that cache hits that disclose data can be audited like reads).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Outcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"  # 5xx, connection refused, breaker open, bulkhead full
    TIMEOUT = "timeout"
    REJECTED = "rejected"  # the source refused us (401/403/400): a configuration problem, not transient
    MAINTENANCE = "maintenance"  # inside a scheduled maintenance window; ``retry_at`` says when it is back


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str
    department: str
    fetched_at: datetime
    record_version: str | None = None


@dataclass(frozen=True, slots=True)
class FieldValue:
    code: str
    value: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class SourceResult:
    """Result of reading one source for one subject.

    ``values`` holds only fields the source returned and we could map; ``missing`` lists requested
    fields it did not answer (absent or an untranslatable code), ``attempts`` counts HTTP attempts
    (0 for cache hits, maintenance and an open breaker). ``detail`` is a short, value-free reason.
    """

    source: str
    department: str
    outcome: Outcome
    requested: frozenset[str]
    values: Mapping[str, FieldValue] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()
    from_cache: bool = False
    fetched_at: datetime | None = None
    record_version: str | None = None
    retry_at: datetime | None = None
    attempts: int = 0
    latency_ms: float = 0.0
    detail: str = ""
    request_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def value_of(self, code: str) -> str | None:
        fv = self.values.get(code)
        return fv.value if fv is not None else None

    def as_cache_hit(self, latency_ms: float, request_id: str | None) -> SourceResult:
        return replace(self, from_cache=True, attempts=0, latency_ms=latency_ms, request_id=request_id)


@runtime_checkable
class Source(Protocol):
    """One department's shared source."""

    @property
    def source_id(self) -> str: ...

    @property
    def department(self) -> str: ...

    @property
    def provides(self) -> frozenset[str]:
        """Canonical field codes this source can answer."""
        ...

    async def fetch(
        self,
        id_number: str,
        fields: Collection[str],
        *,
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> SourceResult:
        """Read ``fields`` (canonical codes, a subset of ``provides``) about the subject ``id_number``.

        ``deadline`` is an absolute time on the injected clock's ``monotonic()`` scale: the overall
        deadline of the whole prefill; no attempt or backoff runs past it. Never raises for source
        failures: they are outcomes. Raises ``UnknownFieldError`` for fields the source lacks.
        """
        ...
