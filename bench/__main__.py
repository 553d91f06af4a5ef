"""The service benchmark: the prefill side by side with a bare fan-out of the same source calls.

    make bench                 # or: .venv/bin/python -m bench [--quick] [--seconds S]

Starts three processes on loopback — the simulated departments (``prefill simulate``), the service
(``prefill serve``, sources configured to point at the simulator, a fresh SQLite database in a temporary
directory) and the bare fan-out (``bench/bare_fanout.py``) — injects 0 ms and 50 ms of latency into every
department source and the certificate library, and drives both with ``wrk`` (``bench/wrk_prefill.lua``)
at several concurrency levels, each request a different synthetic citizen (no cache hits) with a fresh
applicant assertion. Then a cached prefill (one citizen, over and over), the audit log's append and
verification rates (SQLite and, when reachable, PostgreSQL) and SM2 verification. Prints one table and
writes ``bench-results/latest.json``. Targets are checked and reported, never asserted.

Needs ``wrk`` on the PATH (Debian/Ubuntu: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.departments import DEPARTMENTS
from connectors.simulator.identity import identity_jwks, identity_key_id, identity_private_key
from connectors.simulator.population import generated_id_number

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "wrk_prefill.lua"
CACHED_CITIZEN = generated_id_number(27_000_000)  # never among the pool's citizens

TARGETS = {
    "throughput_ratio_c16": 0.70,  # service / bare fan-out, at 16 concurrent requests
    "p50_overhead_ms_50ms": 5.0,  # service p50 minus the 50 ms slowest source, one request at a time
    "audit_verify_per_s": 100_000,
    "audit_append_durable_per_s": 5_000,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- processes ---------------------------------------------------------------------------------------


@dataclass
class Processes:
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited while starting:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback URL we built
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start in {timeout_s:.0f} s")


def post_json(url: str, payload: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback URL we built
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310
        pass


def set_latency(simulator: str, latency_ms: int) -> None:
    for source in [*DEPARTMENTS, "ecert_library"]:
        post_json(f"{simulator}/_faults", {"source": source, "latency_ms": latency_ms})


def service_env(tmp: Path, simulator: str, port: int, log_level: str) -> dict[str, str]:
    config = SimulatorConfig(secrets={})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFILL_")}
    env.update(
        {
            "PREFILL_DATABASE_URL": f"sqlite:///{tmp / 'prefill.sqlite3'}",
            "PREFILL_DATA_DIR": str(tmp),
            "PREFILL_PORT": str(port),
            "PREFILL_SOURCES_MODE": "configured",
            "PREFILL_SOURCES_BASE_URL": simulator,
            "PREFILL_ASSERTION_ISSUER": config.identity_issuer,
            "PREFILL_ASSERTION_KEYS": json.dumps(identity_jwks(config)),
            # The bench is one client and, for the cached row, one applicant at thousands a minute.
            "PREFILL_RATE_LIMIT_CLIENT_PER_MINUTE": "100000000",
            "PREFILL_RATE_LIMIT_SUBJECT_PER_MINUTE": "100000000",
            "PREFILL_LOG_LEVEL": log_level,
        }
    )
    return env


def add_client(env: dict[str, str], role: str) -> str:
    out = subprocess.run(  # noqa: S603
        [str(BIN / "prefill"), "clients", "add", "--role", role, "--name", f"bench {role}", "--json"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return str(json.loads(out.stdout)["key"])


# --- assertions --------------------------------------------------------------------------------------


class Assertions:
    """Applicant assertions as the simulated identity platform issues them (its key, loaded once)."""

    def __init__(self) -> None:
        self.config = SimulatorConfig(secrets={})
        self.key = identity_private_key(self.config)
        self.kid = identity_key_id(self.config)
        self.next_citizen = 0

    def issue(self, id_number: str) -> str:
        iat = int(time.time())
        claims = {
            "iss": self.config.identity_issuer, "aud": self.config.identity_audience, "sub": id_number,
            "iat": iat, "nbf": iat, "exp": iat + self.config.assertion_ttl_s, "jti": uuid.uuid4().hex,
        }  # fmt: skip
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def pool(self, path: Path, size: int, *, citizen: str | None = None) -> Path:
        """``size`` assertions: each for a citizen not used before, or all for ``citizen``."""
        lines = []
        for _ in range(size):
            if citizen is None:
                lines.append(self.issue(generated_id_number(self.next_citizen)))
                self.next_citizen += 1
            else:
                lines.append(self.issue(citizen))
        path.write_text("\n".join(lines) + "\n")
        return path


# --- load --------------------------------------------------------------------------------------------


@dataclass
class Run:
    target: str  # service | bare | service (cached)
    latency_ms: int
    concurrency: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    cpu_ms_per_request: float | None = None  # the target process's CPU time (user + system) per request


def wrk(url: str, pool: Path, key: str, concurrency: int, seconds: float) -> dict[str, Any]:
    env = {**os.environ, "WRK_POOL": str(pool), "WRK_KEY": key, "WRK_THREADS": "1"}
    argv = [
        "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(LUA), url,
    ]  # fmt: skip
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603
    match = re.search(r"^WRK_JSON (\{.*\})$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no WRK_JSON line in wrk's output:\n{out}")
    return dict(json.loads(match.group(1)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    target: str, url: str, pool: Path, key: str, latency_ms: int, concurrency: int, seconds: float, pid: int
) -> Run:
    cpu_before = cpu_seconds(pid)
    result = wrk(url, pool, key, concurrency, seconds)
    cpu = cpu_seconds(pid) - cpu_before
    elapsed = result["duration_us"] / 1e6
    errors = sum(result["errors"].values())
    lat = result["latency_us"]
    run = Run(
        target=target, latency_ms=latency_ms, concurrency=concurrency, requests=result["requests"],
        seconds=round(elapsed, 2), rps=round((result["requests"] - errors) / elapsed, 1),
        p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000, p99_ms=lat["p99"] / 1000, errors=errors,
        cpu_ms_per_request=round(cpu * 1000 / max(1, result["requests"]), 2),
    )  # fmt: skip
    print(
        f"  {target:<17} {latency_ms:>3} ms  c={concurrency:<3} {run.rps:>8.1f} req/s  "
        f"p50 {run.p50_ms:7.1f} ms  p99 {run.p99_ms:7.1f} ms  errors {errors}  "
        f"cpu {run.cpu_ms_per_request:.2f} ms/req",
        flush=True,
    )
    return run


# --- micro benchmarks --------------------------------------------------------------------------------


def audit_figures(records: int) -> dict[str, Any]:
    """Append (group commit, 200 appenders) and verify rates, SQLite FULL and PostgreSQL."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from audit import generate_signing_key
    from audit.models import create_tables, drop_tables
    from bench.audit_bench import append_throughput, sqlite_engine, verify_throughput

    def one(engine: sa.engine.Engine) -> dict[str, float]:
        drop_tables(engine)
        create_tables(engine)
        key = generate_signing_key()
        grouped, _ = asyncio.run(append_throughput(engine, key, records, 200))
        verify, count = verify_throughput(engine, key)
        return {"append_per_s": round(grouped), "verify_per_s": round(verify), "records": count}

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = sqlite_engine(Path(tmp) / "audit.db", "FULL")
        figures["sqlite"] = one(engine)
        engine.dispose()
    base = os.environ.get("PREFILL_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = f"prefill_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        figures["postgresql"] = None
        return figures
    engine = sa.create_engine(make_url(base).set(database=name))
    try:
        figures["postgresql"] = one(engine)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return figures


def sm2_figures(seconds: float) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "bench" / "sm2_bench.py"), "--seconds", str(seconds)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    figures = {}
    for label, key in (("tongsuopy SM2 verify", "tongsuopy_per_s"), ("gmssl SM2 verify", "gmssl_per_s"),
                       ("verify_certificate, no cache", "certificate_per_s")):  # fmt: skip
        match = re.search(re.escape(label) + r".*?\s(\d+) /s", out)
        if match:
            figures[key] = float(match.group(1))
    return figures


# --- report ------------------------------------------------------------------------------------------


def find(runs: list[Run], target: str, latency_ms: int, concurrency: int) -> Run | None:
    return next(
        (r for r in runs if (r.target, r.latency_ms, r.concurrency) == (target, latency_ms, concurrency)),
        None,
    )


def table(runs: list[Run]) -> Iterator[str]:
    yield (
        "| run | source latency | concurrency | req/s | p50 ms | p99 ms | errors | CPU ms/req "
        "| service / bare |"
    )
    yield "|---|---|---|---|---|---|---|---|---|"
    for run in runs:
        bare = find(runs, "bare", run.latency_ms, run.concurrency)
        ratio = f"{run.rps / bare.rps:.2f}" if run.target == "service" and bare and bare.rps else ""
        yield (
            f"| {run.target} | {run.latency_ms} ms | {run.concurrency} | {run.rps:,.0f} | {run.p50_ms:.1f} | "
            f"{run.p99_ms:.1f} | {run.errors} | {run.cpu_ms_per_request} | {ratio} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (1 s per load step)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per load step (default 5)")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--latencies", default="0,50", help="injected source latency, ms")
    parser.add_argument("--log-level", default="INFO", help="the service's log level (default: as shipped)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "latest.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    seconds = args.seconds or (1.0 if args.quick else 5.0)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    latencies = [int(ms) for ms in args.latencies.split(",")]

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="prefill-bench-") as tmp_name:
        tmp = Path(tmp_name)
        processes = Processes(tmp)
        try:
            sim_port, service_port, bare_port = free_port(), free_port(), free_port()
            simulator = f"http://127.0.0.1:{sim_port}"
            sim = processes.start("simulator", [str(BIN / "prefill"), "simulate", "--port", str(sim_port)],
                                  dict(os.environ))  # fmt: skip
            wait_http(f"{simulator}/healthz", sim, tmp / "simulator.log")
            env = service_env(tmp, simulator, service_port, args.log_level)
            subprocess.run([str(BIN / "prefill"), "db", "upgrade"], env=env, cwd=ROOT, check=True,  # noqa: S603
                           capture_output=True)  # fmt: skip
            key = add_client(env, "frontend")
            service = processes.start("service", [str(BIN / "prefill"), "serve"], env)
            bare = processes.start(
                "bare",
                [sys.executable, "-m", "uvicorn", "bench.bare_fanout:create_app", "--factory", "--host",
                 "127.0.0.1", "--port", str(bare_port), "--no-access-log", "--log-level", "warning"],
                {**os.environ, "BARE_SOURCES_BASE_URL": simulator},
            )  # fmt: skip
            service_url, bare_url = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{bare_port}"
            wait_http(f"{service_url}/healthz", service, tmp / "service.log")
            wait_http(bare_url, bare, tmp / "bare.log")

            assertions = Assertions()
            pool_size = int(seconds * 2500) + 200  # above any rate this machine reaches
            # Warm-up: connections, the issuers' keys, lazy imports.
            for target, url in (("bare", bare_url), ("service", service_url)):
                wrk(url, assertions.pool(tmp / "warm.txt", 400), key, 8, 1)
                del target
            print(
                f"wrk, {seconds:g} s per step, every request a different citizen unless cached:", flush=True
            )
            for latency in latencies:
                set_latency(simulator, latency)
                for concurrency in concurrencies:
                    for target, url, pid in (
                        ("bare", bare_url, bare.pid),
                        ("service", service_url, service.pid),
                    ):
                        pool = assertions.pool(tmp / "pool.txt", pool_size)
                        runs.append(measure(target, url, pool, key, latency, concurrency, seconds, pid))
                # The same citizen again and again: the sources answer from the connector cache (the
                # certificate library is still asked, and every disclosure is still audited).
                pool = assertions.pool(tmp / "pool.txt", pool_size, citizen=CACHED_CITIZEN)
                runs.append(
                    measure("service (cached)", service_url, pool, key, latency, 16, seconds, service.pid)
                )
            set_latency(simulator, 0)
        finally:
            processes.stop()
            for name in ("service", "bare", "simulator"):
                log = tmp / f"{name}.log"
                if log.exists() and any(p.returncode not in (0, -15, None) for p in processes.procs):
                    print(f"--- {name} log (tail) ---\n{log.read_text()[-2000:]}", file=sys.stderr)

    print("audit log and SM2 micro-benchmarks ...", flush=True)
    audit = audit_figures(5_000 if args.quick else 20_000)
    sm2 = sm2_figures(0.5 if args.quick else 2.0)

    checks = evaluate(runs, audit, latencies)
    print()
    for line in table(runs):
        print(line)
    print()
    for line in summary_lines(audit, sm2, checks):
        print(line)
    results = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
        },
        "settings": {"seconds": seconds, "concurrency": concurrencies, "latencies_ms": latencies,
                     "log_level": args.log_level, "quick": args.quick},
        "runs": [asdict(r) for r in runs],
        "audit": audit,
        "sm2": sm2,
        "checks": checks,
        "command": "make bench",
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {args.out}")
    return 0


def evaluate(runs: list[Run], audit: dict[str, Any], latencies: list[int]) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    for latency in latencies:
        service, bare = find(runs, "service", latency, 16), find(runs, "bare", latency, 16)
        if service and bare and bare.rps:
            ratio = service.rps / bare.rps
            checks[f"throughput_ratio_c16_{latency}ms"] = {
                "value": round(ratio, 3), "target": f">= {TARGETS['throughput_ratio_c16']}",
                "met": ratio >= TARGETS["throughput_ratio_c16"],
            }  # fmt: skip
    for concurrency in (1, 16):
        service, bare = find(runs, "service", 50, concurrency), find(runs, "bare", 50, concurrency)
        if service:
            over_source = service.p50_ms - 50
            checks[f"p50_overhead_over_50ms_source_c{concurrency}"] = {
                "value_ms": round(over_source, 2),
                "over_bare_ms": round(service.p50_ms - bare.p50_ms, 2) if bare else None,
                "target": f"<= {TARGETS['p50_overhead_ms_50ms']} ms",
                "met": over_source <= TARGETS["p50_overhead_ms_50ms"],
            }
    for db, figures in audit.items():
        if not figures:
            continue
        verify, append = figures["verify_per_s"], figures["append_per_s"]
        checks[f"audit_verify_per_s_{db}"] = {
            "value": verify, "target": ">= 100000", "met": verify >= TARGETS["audit_verify_per_s"],
        }  # fmt: skip
        checks[f"audit_append_durable_per_s_{db}"] = {
            "value": append, "target": ">= 5000", "met": append >= TARGETS["audit_append_durable_per_s"],
        }  # fmt: skip
    return checks


def summary_lines(audit: dict[str, Any], sm2: dict[str, float], checks: dict[str, Any]) -> Iterator[str]:
    for db, figures in audit.items():
        if figures is None:
            yield f"audit ({db}): not reachable, skipped"
        else:
            yield (
                f"audit ({db}): append {figures['append_per_s']:,} records/s (durable, group commit), "
                f"verify {figures['verify_per_s']:,} records/s"
            )
    if sm2:
        yield (
            f"SM2 verify: tongsuopy {sm2.get('tongsuopy_per_s', 0):,.0f}/s, "
            f"gmssl {sm2.get('gmssl_per_s', 0):,.0f}/s, "
            f"whole certificate {sm2.get('certificate_per_s', 0):,.0f}/s"
        )
    for name, check in checks.items():
        value = check.get("value", check.get("value_ms"))
        extra = (
            f" (over bare fan-out: {check['over_bare_ms']} ms)"
            if check.get("over_bare_ms") is not None
            else ""
        )
        yield f"target {name}: {value} {check['target']} -> {'met' if check['met'] else 'MISSED'}{extra}"


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
