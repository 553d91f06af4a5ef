"""Token buckets in memory, per client and per applicant.

Buckets are keyed by the client id or by the applicant's keyed pseudonym — never by the plain ID
number, which must not sit in memory structures that outlive the request. The clock is injected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache

from prefill.auth.errors import RateLimitedError

__all__ = ["RateLimiter", "TokenBucketLimiter"]

MAX_TRACKED_KEYS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """``per_minute`` requests a minute with bursts up to ``burst``; refills continuously.

    An idle bucket refills completely in ``burst / rate`` seconds, so it is dropped after that long: a
    fresh bucket is the same thing. The bound on tracked keys keeps memory flat under a key flood; an
    evicted key at worst gets a fresh bucket, so the bound errs on the side of the caller, never of an
    unbounded memory.
    """

    def __init__(self, per_minute: int, burst: int | None = None, *, clock: Callable[[], float]) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = float(burst or per_minute)
        self.clock = clock
        self._buckets: TTLCache[str, _Bucket] = TTLCache(
            maxsize=MAX_TRACKED_KEYS, ttl=self.capacity / self.rate, timer=clock
        )
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until a token is due."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(tokens=self.capacity, updated=now)
            else:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                self._buckets[key] = bucket
                return 0.0
            self._buckets[key] = bucket
            return (1.0 - bucket.tokens) / self.rate


class RateLimiter:
    """The service's two limits: requests per client, and prefills (or other reads) per applicant."""

    def __init__(
        self,
        *,
        client_per_minute: int,
        subject_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = TokenBucketLimiter(client_per_minute, clock=clock)
        self.subjects = TokenBucketLimiter(subject_per_minute, clock=clock)

    def check_client(self, client_id: str) -> None:
        wait = self.clients.acquire(client_id)
        if wait:
            raise RateLimitedError("too many requests from this client", wait)

    def check_subject(self, subject_key: str) -> None:
        """``subject_key`` is the applicant's keyed pseudonym (``masking.pseudonym``)."""
        wait = self.subjects.acquire(subject_key)
        if wait:
            raise RateLimitedError("too many requests for this applicant", wait)
