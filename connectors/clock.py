"""Clock abstraction: wall time for provenance, signatures and maintenance windows; monotonic time for
deadlines, breakers and caches. Injected so that tests control time without sleeping."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (wall clock)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds (deadlines, breakers, cache expiry)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait (backoff between retries)."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def utc_from_timestamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
