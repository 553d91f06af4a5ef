"""Resilience primitives per source: circuit breaker and jittered exponential backoff.

Both take the clock (and the breaker a random source) by injection so that tests drive them exactly.
"""

from __future__ import annotations

import random
from enum import StrEnum

from connectors.clock import Clock
from connectors.config import BreakerPolicy, RetryPolicy


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failures; open fails fast for
    ``recovery_s``; then half-open lets ``half_open_max_calls`` probes through: one success closes it,
    one failure opens it again.

    Failures are reads that ended unavailable or timed out (the source is unwell); answers such as
    not found or rejected are the source working and count as successes.
    """

    def __init__(self, policy: BreakerPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock.monotonic() >= self.reopens_at:
            self._state = BreakerState.HALF_OPEN
            self._probes_in_flight = 0
        return self._state

    @property
    def reopens_at(self) -> float:
        """Monotonic time at which an open breaker lets a probe through."""
        return self._opened_at + self._policy.recovery_s

    def try_acquire(self) -> bool:
        """Whether a call may go out now; a granted half-open probe must be followed by a record."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes_in_flight < self._policy.half_open_max_calls:
            self._probes_in_flight += 1
            return True
        return False

    @property
    def is_probing(self) -> bool:
        return self._state is BreakerState.HALF_OPEN

    def record_success(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._probes_in_flight = 0

    def record_failure(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._failures >= self._policy.failure_threshold:
            self._open()

    def release_probe(self) -> None:
        """A half-open probe ended without a verdict (e.g. cancelled)."""
        if self._state is BreakerState.HALF_OPEN and self._probes_in_flight > 0:
            self._probes_in_flight -= 1

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock.monotonic()
        self._failures = 0
        self._probes_in_flight = 0


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Full-jitter exponential backoff before attempt ``attempt + 1`` (``attempt`` ≥ 1).

    >>> p = RetryPolicy(backoff_base_s=0.1, backoff_max_s=0.3)
    >>> all(0 <= backoff_delay(p, n, random.Random(n)) <= 0.3 for n in range(1, 8))
    True
    """
    cap = min(policy.backoff_max_s, policy.backoff_base_s * (2 ** (attempt - 1)))
    return rng.uniform(0, cap)
