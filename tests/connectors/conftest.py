"""Fixtures of the connectors tests: a controllable clock and a real simulator on loopback HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from connectors.simulator.app import create_simulator_app
from connectors.simulator.config import SimulatorConfig, SimulatorState
from tests.servers import serve_in_thread


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    """Wall and monotonic time that only move when told to (or when the code under test sleeps)."""

    def __init__(self, wall: float = 1_700_000_000.0) -> None:
        self.wall = wall
        self.mono = 1_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pseudonymize(id_number: str) -> str:
    """Stand-in for masking's keyed HMAC (tests only)."""
    return "p:" + hashlib.sha256(b"test-key" + id_number.encode()).hexdigest()[:32]


@dataclass
class RunningSimulator:
    base_url: str
    state: SimulatorState

    def reset(self) -> None:
        self.state.faults.clear()
        self.state.received.clear()


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[RunningSimulator]:
    """The real simulator app under uvicorn on a free 127.0.0.1 port, in a background thread."""
    config = SimulatorConfig(persona_latency_scale=0.2)  # slow-source: 5 s → 1 s
    app = create_simulator_app(config)
    with serve_in_thread(app) as base_url:
        yield RunningSimulator(base_url, app.state.simulator)


@pytest.fixture
def simulator(simulator_server: RunningSimulator) -> Iterator[RunningSimulator]:
    simulator_server.reset()
    yield simulator_server
    simulator_server.reset()
