"""The shared ``httpx.AsyncClient`` for all sources, with its transport chosen by measurement.

httpx's API is used everywhere; the transport underneath is ``httpx-aiohttp`` by default because it
measured ~5× the fan-out throughput of httpx's own async transport on loopback (docs/connectors.md,
``bench/transport_bench.py``).
"""

from __future__ import annotations

from typing import Literal

import httpx
from httpx_aiohttp import AiohttpTransport

TransportKind = Literal["aiohttp", "httpx"]
DEFAULT_TRANSPORT: TransportKind = "aiohttp"


def create_client(
    transport: TransportKind = DEFAULT_TRANSPORT,
    *,
    max_connections: int = 200,
    max_keepalive_connections: int = 100,
) -> httpx.AsyncClient:
    """A long-lived client (create in the app's lifespan, close on shutdown). Per-request timeouts are
    set by each source; ``trust_env`` is off so that proxy variables never route department traffic."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_keepalive_connections
    )
    if transport == "aiohttp":
        return httpx.AsyncClient(transport=AiohttpTransport(limits=limits, trust_env=False), trust_env=False)
    return httpx.AsyncClient(limits=limits, trust_env=False)
