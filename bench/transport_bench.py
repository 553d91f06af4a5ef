"""Measure fan-out throughput of the connectors over loopback with each httpx transport.

One fan-out = 6 source reads (the connectors' real path: signing, retries, breaker, mapping; cache off)
for a fresh synthetic citizen, ``--concurrency`` fan-outs in flight, for ``--seconds`` per transport.
The simulator runs in its own process (uvicorn, one worker) on a free 127.0.0.1 port.

    .venv/bin/python bench/transport_bench.py --seconds 5 --concurrency 16

Bounded and local only: it never talks to anything but the simulator it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from connectors.config import SourceConfig, load_sources
from connectors.registry import build_sources
from connectors.simulator.population import generated_id_number
from connectors.transport import TransportKind, create_client

SOURCES = (
    "psb_identity",
    "psb_household",
    "hrss_employment",
    "hrss_pension",
    "medical_insurance",
    "tax_contribution",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "uvicorn", "connectors.simulator.app:create_simulator_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd)  # noqa: S603 - fixed argv, our own module
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("simulator did not start")


async def run(
    kind: TransportKind, configs: dict[str, SourceConfig], seconds: float, concurrency: int
) -> dict[str, object]:
    counter = itertools.count(1_000)
    done = 0
    failed = 0
    latencies: list[float] = []
    async with create_client(kind) as client:
        sources = build_sources(
            configs, client, pseudonymize=lambda s: hashlib.sha256(s.encode()).hexdigest()
        )
        stop_at = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done, failed
            while time.monotonic() < stop_at:
                id_number = generated_id_number(next(counter))
                started = time.monotonic()
                results = await asyncio.gather(
                    *(s.fetch(id_number, s.provides, deadline=started + 5) for s in sources.values())
                )
                latencies.append(time.monotonic() - started)
                if all(r.ok for r in results):
                    done += 1
                else:
                    failed += 1

        # warm-up (connections, JIT-free but caches/pools)
        await asyncio.gather(*(s.fetch(generated_id_number(1), s.provides) for s in sources.values()))
        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - t0
    latencies.sort()
    return {
        "transport": kind,
        "fanouts_per_s": round(done / elapsed, 1),
        "calls_per_s": round(done * len(configs) / elapsed, 1),
        "ok": done,
        "failed": failed,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--transports", default="httpx,aiohttp")
    args = parser.parse_args()
    port = free_port()
    proc = start_simulator(port)
    try:
        configs = {
            k: v.model_copy(update={"cache": v.cache.model_copy(update={"ttl_s": 0})})
            for k, v in load_sources(base_url_override=f"http://127.0.0.1:{port}").items()
            if k in SOURCES
        }
        for kind in args.transports.split(","):
            result = asyncio.run(run(kind, configs, args.seconds, args.concurrency))
            print(json.dumps({**result, "concurrency": args.concurrency, "seconds": args.seconds,
                              "cpus": os.cpu_count()}))  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
