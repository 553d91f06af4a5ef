"""Adapters against the real simulator over loopback HTTP (uvicorn on a free 127.0.0.1 port)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from connectors.base import Outcome
from connectors.config import SourceConfig, load_sources
from connectors.http import HttpSource
from connectors.registry import build_sources
from connectors.signing import sign_request
from connectors.simulator.config import DEV_ACCEPTANCE_APP_KEY, DEV_ACCEPTANCE_SECRET, Fault
from connectors.simulator.personas import PERSONAS, SOURCE_FIELDS, persona_by_name
from connectors.transport import create_client

from .conftest import RunningSimulator, pseudonymize

pytestmark = pytest.mark.anyio

COMPLETE = persona_by_name("complete")


def configs(sim: RunningSimulator, **overrides: Any) -> dict[str, SourceConfig]:
    out = load_sources(base_url_override=sim.base_url)
    if overrides:
        out = {k: v.model_copy(update=overrides) for k, v in out.items()}
    return out


def source(sim: RunningSimulator, client: httpx.AsyncClient, source_id: str, **overrides: Any) -> HttpSource:
    cfg = load_sources(base_url_override=sim.base_url)[source_id]
    cfg = SourceConfig.model_validate({**cfg.model_dump(), **overrides})
    return HttpSource(cfg, client, pseudonymize=pseudonymize)


def fast_retry(**kw: Any) -> dict[str, Any]:
    return {"max_attempts": 5, "backoff_base_s": 0.02, "backoff_max_s": 0.1, **kw}


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize("persona", list(PERSONAS))
async def test_every_persona_reads_as_documented(simulator, persona, transport):
    """The connectors' mapping (sources.yaml) and the departments' formats agree for every persona."""
    p = persona_by_name(persona)
    async with create_client(transport) as client:
        sources = build_sources(configs(simulator), client, pseudonymize=pseudonymize)
        fast = {"slow-source": "medical_insurance", "source-down": "hrss_pension"}.get(persona)
        deadline = time.monotonic() + 0.6
        results = await asyncio.gather(
            *(s.fetch(p.id_number, s.provides, deadline=deadline) for s in sources.values())
        )
    for result in results:
        record = p.record(result.source)
        if result.source == fast:
            expected = Outcome.TIMEOUT if persona == "slow-source" else Outcome.UNAVAILABLE
            assert result.outcome is expected, result
        elif record is None:
            assert result.outcome is Outcome.NOT_FOUND, result
        else:
            assert result.outcome is Outcome.OK, result
            assert {k: v.value for k, v in result.values.items()} == dict(record)
            assert set(record) == set(SOURCE_FIELDS[result.source])
            assert result.record_version is None or len(result.record_version) > 0


async def test_simulator_returns_only_the_requested_fields(simulator):
    cfg = load_sources(base_url_override=simulator.base_url)["hrss_employment"]
    body = json.dumps({"aac002": COMPLETE.id_number, "fields": ["mobile"]}).encode()
    headers = sign_request(
        "POST",
        cfg.path,
        body,
        app_key=cfg.credentials.app_key,
        secret=cfg.credentials.secret,
        timestamp=int(time.time()),
    )
    async with httpx.AsyncClient() as client:
        r = await client.post(cfg.url, content=body, headers=headers)
    assert r.status_code == 200
    assert r.json()["data"]["person"] == {"contact": {"mobile": COMPLETE.mobile}}
    assert "registration" not in r.json()["data"]


async def test_unsigned_stale_replayed_and_forged_requests_are_401(simulator):
    cfg = load_sources(base_url_override=simulator.base_url)["psb_identity"]
    body = json.dumps({"GMSFHM": COMPLETE.id_number, "CXZD": ["XM"]}).encode()

    def signed(ts: float, secret: str = cfg.credentials.secret) -> dict[str, str]:
        return sign_request(
            "POST",
            cfg.path,
            body,
            app_key=cfg.credentials.app_key,
            secret=secret,
            method="HMAC-SM3",
            timestamp=int(ts),
        )

    async with httpx.AsyncClient() as client:
        unsigned = await client.post(cfg.url, content=body)
        stale = await client.post(cfg.url, content=body, headers=signed(time.time() - 301))
        forged = await client.post(cfg.url, content=body, headers=signed(time.time(), "wrong"))
        good_headers = signed(time.time())
        good = await client.post(cfg.url, content=body, headers=good_headers)
        replay = await client.post(cfg.url, content=body, headers=good_headers)
        tampered = await client.post(
            cfg.url,
            content=body.replace(b"XM", b"XB"),
            headers=signed(time.time()) | {"X-Nonce": "fresh-nonce"},
        )
    assert [r.status_code for r in (unsigned, stale, forged, good, replay, tampered)] == [
        401,
        401,
        401,
        200,
        401,
        401,
    ]
    assert unsigned.json()["detail"] == "unsigned request"
    assert stale.json()["detail"] == "stale timestamp"
    assert replay.json()["detail"] == "replayed nonce"
    assert COMPLETE.id_number not in forged.text


async def test_wrong_secret_is_rejected_not_retried(simulator):
    async with create_client() as client:
        src = source(
            simulator,
            client,
            "psb_identity",
            credentials={
                "app_key": "prefill-psb-identity",
                "secret": "wrong",
                "signature_method": "HMAC-SM3",
            },
        )
        result = await src.fetch(COMPLETE.id_number, {"name"})
    assert result.outcome is Outcome.REJECTED and result.attempts == 1
    assert src.breaker_state == "closed"


async def test_retry_inside_the_deadline_recovers_when_the_source_comes_back(simulator):
    simulator.state.faults["tax_contribution"] = Fault(down=True)

    async def recover() -> None:
        await asyncio.sleep(0.15)
        simulator.state.faults.clear()

    async with create_client() as client:
        src = source(simulator, client, "tax_contribution", retry=fast_retry(max_attempts=8))
        started = time.monotonic()
        result, _ = await asyncio.gather(
            src.fetch(COMPLETE.id_number, src.provides, deadline=started + 2.0), recover()
        )
    assert result.outcome is Outcome.OK and result.attempts >= 2
    assert time.monotonic() - started < 2.0


async def test_down_source_fails_within_the_deadline(simulator):
    simulator.state.faults["hrss_sscard"] = Fault(down=True)
    async with create_client() as client:
        src = source(simulator, client, "hrss_sscard", retry=fast_retry(max_attempts=10))
        started = time.monotonic()
        result = await src.fetch(COMPLETE.id_number, src.provides, deadline=started + 0.4)
        elapsed = time.monotonic() - started
    assert result.outcome is Outcome.UNAVAILABLE and result.attempts >= 2
    assert elapsed < 0.45


async def test_slow_source_times_out_at_the_deadline(simulator):
    simulator.state.faults["talent_dossier"] = Fault(latency_ms=2_000)
    async with create_client() as client:
        src = source(simulator, client, "talent_dossier", timeout_s=5.0)
        started = time.monotonic()
        result = await src.fetch(COMPLETE.id_number, src.provides, deadline=started + 0.3)
        elapsed = time.monotonic() - started
    assert result.outcome is Outcome.TIMEOUT
    assert 0.25 < elapsed < 0.5


async def test_breaker_opens_and_recovers_against_the_simulator(simulator):
    simulator.state.faults["medical_insurance"] = Fault(down=True)
    async with create_client() as client:
        src = source(
            simulator,
            client,
            "medical_insurance",
            retry=fast_retry(max_attempts=1),
            breaker={"failure_threshold": 2, "recovery_s": 0.3},
            cache={"ttl_s": 0},
        )
        outcomes = [(await src.fetch(COMPLETE.id_number, {"medical_insured_city"})).outcome for _ in range(2)]
        assert outcomes == [Outcome.UNAVAILABLE] * 2 and src.breaker_state == "open"
        started = time.monotonic()
        fast = await src.fetch(COMPLETE.id_number, {"medical_insured_city"})
        assert fast.detail == "circuit open" and time.monotonic() - started < 0.05
        simulator.state.faults.clear()
        await asyncio.sleep(0.35)
        recovered = await src.fetch(COMPLETE.id_number, {"medical_insured_city"})
    assert recovered.outcome is Outcome.OK and src.breaker_state == "closed"


async def test_maintenance_window_is_answered_without_calling(simulator):
    simulator.state.faults["psb_household"] = Fault(latency_ms=2_000)  # a call would be slow
    now = datetime.now(UTC)
    window = {"starts_at": now - timedelta(minutes=1), "ends_at": now + timedelta(minutes=30)}
    async with create_client() as client:
        src = source(simulator, client, "psb_household", maintenance=[window])
        started = time.monotonic()
        result = await src.fetch(COMPLETE.id_number, {"hukou_nature"})
    assert result.outcome is Outcome.MAINTENANCE and result.retry_at == window["ends_at"]
    assert time.monotonic() - started < 0.1


async def test_cache_hit_then_expiry(simulator):
    async with create_client() as client:
        src = source(simulator, client, "psb_identity", cache={"ttl_s": 0.3, "maxsize": 10})
        first = await src.fetch(COMPLETE.id_number, {"name", "gender"})
        second = await src.fetch(COMPLETE.id_number, {"gender", "name"})
        await asyncio.sleep(0.35)
        third = await src.fetch(COMPLETE.id_number, {"name", "gender"})
    assert [first.from_cache, second.from_cache, third.from_cache] == [False, True, False]
    assert second.values == first.values


async def test_request_id_is_passed_through(simulator):
    cfg = load_sources(base_url_override=simulator.base_url)["talent_dossier"]
    body = json.dumps({"idcard": COMPLETE.id_number, "fields": ["holder"]}).encode()
    headers = sign_request(
        "POST",
        cfg.path,
        body,
        app_key=cfg.credentials.app_key,
        secret=cfg.credentials.secret,
        timestamp=int(time.time()),
    )
    async with httpx.AsyncClient() as client:
        r = await client.post(cfg.url, content=body, headers=headers | {"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"


async def test_fault_admin_endpoint(simulator):
    async with httpx.AsyncClient(base_url=simulator.base_url) as client:
        r = await client.post("/_faults", json={"source": "hrss_pension", "error_rate": 1.0})
        assert r.json()["faults"]["hrss_pension"]["error_rate"] == 1.0
        async with create_client() as sc:
            src = source(simulator, sc, "hrss_pension", retry=fast_retry(max_attempts=2))
            assert (await src.fetch(COMPLETE.id_number, {"insured_city"})).outcome is Outcome.UNAVAILABLE
        assert (await client.post("/_faults", json={"source": "nope"})).status_code == 404
        assert (await client.delete("/_faults")).json() == {"faults": {}}
        personas = (await client.get("/_personas")).json()["items"]
    assert {p["persona"] for p in personas} == set(PERSONAS)


async def test_identity_platform_issues_verifiable_assertions(simulator):
    async with httpx.AsyncClient(base_url=simulator.base_url) as client:
        issued = (await client.post("/idp/v1/assertions", json={"persona": "complete"})).json()
        jwks = (await client.get("/idp/v1/jwks")).json()
        unknown = await client.post("/idp/v1/assertions", json={"persona": "nobody"})
        bad_id = await client.post("/idp/v1/assertions", json={"id_number": "420102198803150138"})
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(issued["assertion"], key, algorithms=["EdDSA"], audience="prefill-service")
    assert claims["sub"] == issued["id_number"] == COMPLETE.id_number
    assert {"iss", "aud", "sub", "iat", "nbf", "exp", "jti"} <= set(claims)
    assert jwt.get_unverified_header(issued["assertion"])["kid"] == jwks["keys"][0]["kid"]
    assert unknown.status_code == 404 and bad_id.status_code == 422


def _acceptance_headers(body: bytes, key: str | None) -> dict[str, str]:
    headers = sign_request(
        "POST",
        "/uap/v1/forms",
        body,
        app_key=DEV_ACCEPTANCE_APP_KEY,
        secret=DEV_ACCEPTANCE_SECRET,
        timestamp=int(time.time()),
    )
    return headers | ({"Idempotency-Key": key} if key else {})


async def test_acceptance_platform_is_idempotent_and_can_be_down(simulator):
    form = {
        "form": "employment_registration",
        "department": "employment_center",
        "values": {"name": "王测完"},
    }
    body = json.dumps(form, ensure_ascii=False).encode()
    other = json.dumps({**form, "values": {}}).encode()
    async with httpx.AsyncClient(base_url=simulator.base_url) as client:
        first = await client.post("/uap/v1/forms", content=body, headers=_acceptance_headers(body, "k1"))
        again = await client.post("/uap/v1/forms", content=body, headers=_acceptance_headers(body, "k1"))
        conflict = await client.post("/uap/v1/forms", content=other, headers=_acceptance_headers(other, "k1"))
        no_key = await client.post("/uap/v1/forms", content=body, headers=_acceptance_headers(body, None))
        unsigned = await client.post("/uap/v1/forms", content=body, headers={"Idempotency-Key": "k2"})
        simulator.state.faults["unified_acceptance"] = Fault(down=True)
        down = await client.post("/uap/v1/forms", content=body, headers=_acceptance_headers(body, "k3"))
        listed = (await client.get("/uap/v1/forms")).json()["items"]
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (conflict.status_code, no_key.status_code, unsigned.status_code, down.status_code) == (
        422,
        400,
        401,
        503,
    )
    assert len(listed) == 1 and listed[0]["body"] == form
