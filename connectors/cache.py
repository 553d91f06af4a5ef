"""In-memory, bounded TTL cache of source results (cachetools).

Keys are (keyed pseudonym of the subject, requested field set): never a plain ID number. One cache
per source, so the source id is implicit in the cache and its TTL is the source's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from cachetools import TTLCache

from connectors.base import SourceResult
from connectors.config import CachePolicy

CacheKey = tuple[str, frozenset[str]]


class ResultCache:
    def __init__(self, policy: CachePolicy, timer: Callable[[], float]) -> None:
        self.enabled = policy.ttl_s > 0
        self._cache: TTLCache[CacheKey, SourceResult] = TTLCache(
            maxsize=policy.maxsize, ttl=max(policy.ttl_s, 1e-9), timer=timer
        )

    @staticmethod
    def key(pseudonym: str, fields: Collection[str]) -> CacheKey:
        return (pseudonym, frozenset(fields))

    def get(self, key: CacheKey) -> SourceResult | None:
        if not self.enabled:
            return None
        return self._cache.get(key)

    def put(self, key: CacheKey, result: SourceResult) -> None:
        if self.enabled:
            self._cache[key] = result

    def clear(self) -> None:
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
