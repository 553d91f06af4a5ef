"""Contract tests of the HTTP adapter against canned department answers (``httpx.MockTransport``)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors.base import Outcome, Source
from connectors.config import SourceConfig, load_sources
from connectors.errors import UnknownFieldError
from connectors.http import HttpSource
from connectors.registry import build_sources
from connectors.signing import verify_signature

from .conftest import FakeClock, pseudonymize

ID = "420102198803150137"
SECRETS = {cfg.id: cfg.credentials.resolved_secret() for cfg in load_sources().values()}

# One canned answer per source in the department's own format, and the canonical values it must map to.
CONTRACTS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "psb_identity": (
        {
            "CODE": "0000",
            "MSG": "查询成功",
            "BBH": "v7",
            "DATA": {"XM": " 王测完 ", "XB": "1", "MZ": "01", "CSRQ": "19880315", "GJDQ": "156"},
        },
        {
            "name": "王测完",
            "gender": "1",
            "ethnicity": "01",
            "birth_date": "1988-03-15",
            "nationality": "CHN",
        },
    ),
    "psb_household": (
        {
            "CODE": "0000",
            "BBH": "v3",
            "DATA": {
                "HKXZ": "1",
                "HJDZ_XZQHDM": "420102",
                "HJDZ_DZMC": "湖北省武汉市",
                "LHRQ": "20060901",
                "HYZK": "20",
                "WHCD": "21",
            },
        },
        {
            "hukou_nature": "1",
            "hukou_region_code": "420102",
            "hukou_address": "湖北省武汉市",
            "hukou_registered_on": "2006-09-01",
            "marital_status": "20",
            "education": "21",
        },
    ),
    "hrss_employment": (
        {
            "code": 0,
            "message": "success",
            "data": {
                "person": {"contact": {"mobile": "13800000001"}},
                "registration": {
                    "status": "3",
                    "registeredDate": "2021-06-15T00:00:00",
                    "hardship": {"type": "00"},
                    "certificate": {"number": "E1"},
                },
                "version": "9",
            },
        },
        {
            "mobile": "13800000001",
            "employment_status": "flexible_employed",
            "employment_registered_on": "2021-06-15",
            "hardship_category": "0",
            "employment_certificate_no": "E1",
        },
    ),
    "hrss_pension": (
        {
            "flag": "1",
            "result": {
                "aae135": ID,
                "aac001": "4201000000000001",
                "aab301": "420100",
                "aab004": "灵活就业人员",
                "aac049": "20210701",
                "aae036": "20240101",
            },
        },
        {
            "social_security_number": ID,
            "personal_number": "4201000000000001",
            "insured_city": "420100",
            "insured_employer": "灵活就业人员",
            "pension_insured_date": "2021-07-01",
        },
    ),
    "hrss_sscard": (
        {"success": True, "errcode": "0", "data": {"card": {"kzt": "2", "kh": "HB0000001"}}},
        {"sscard_status": "reported_lost", "sscard_number": "HB0000001"},
    ),
    "medical_insurance": (
        {"infcode": 0, "output": {"insuinfo": {"psn_insu_date": "2021-07-01", "insuplc_admdvs": "420100"}}},
        {"medical_insured_date": "2021-07-01", "medical_insured_city": "420100"},
    ),
    "tax_contribution": (
        {"returnCode": "00", "body": {"nsrzt": "03", "jfjs": 4000}},
        {"taxpayer_status": "normal", "contribution_base": "4000.00"},
    ),
    "talent_dossier": (
        {"status": "ok", "dossier": {"holder": "湖北省人才服务中心", "regionCode": "420100"}},
        {"dossier_holder": "湖北省人才服务中心", "dossier_region_code": "420100"},
    ),
}


def make_source(
    cfg: SourceConfig, handler: Any, clock: FakeClock, **overrides: Any
) -> tuple[HttpSource, httpx.AsyncClient]:
    if overrides:
        cfg = cfg.model_copy(update=overrides)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpSource(cfg, client, pseudonymize=pseudonymize, clock=clock), client


def configs() -> dict[str, SourceConfig]:
    return load_sources(base_url_override="http://dept.test/gw")


def test_every_configured_source_has_a_contract():
    assert set(configs()) == set(CONTRACTS)


@pytest.mark.anyio
@pytest.mark.parametrize("source_id", list(CONTRACTS))
async def test_adapter_contract(source_id: str, clock: FakeClock):
    cfg = configs()[source_id]
    answer, expected = CONTRACTS[source_id]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)

    source, client = make_source(cfg, handler, clock)
    async with client:
        result = await source.fetch(ID, cfg.provides, request_id="req-1")

    assert result.outcome is Outcome.OK
    assert {k: v.value for k, v in result.values.items()} == expected
    assert result.missing == frozenset()
    assert result.from_cache is False and result.attempts == 1
    for fv in result.values.values():
        assert fv.provenance.source == source_id and fv.provenance.department == cfg.department
        assert fv.provenance.fetched_at == datetime.fromtimestamp(clock.wall, tz=UTC)

    (request,) = seen
    assert request.url.path == "/gw" + cfg.path
    assert request.headers["X-Request-ID"] == "req-1"
    assert request.headers["X-Signature-Method"] == cfg.credentials.signature_method
    assert verify_signature(
        request.method,
        request.url.raw_path.decode(),
        request.content,
        secret=SECRETS[source_id],
        method=request.headers["X-Signature-Method"],
        timestamp=request.headers["X-Timestamp"],
        nonce=request.headers["X-Nonce"],
        signature=request.headers["X-Signature"],
    )
    body = json.loads(request.content)
    assert body[cfg.request.subject_field] == ID
    assert sorted(body[cfg.request.fields_field]) == sorted(m.request for m in cfg.fields.values())


@pytest.mark.anyio
async def test_only_requested_fields_are_asked_for(clock: FakeClock):
    cfg = configs()["psb_identity"]
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"CODE": "0000", "DATA": {"XM": "王测完"}})

    source, client = make_source(cfg, handler, clock)
    async with client:
        result = await source.fetch(ID, {"name"})
        with pytest.raises(UnknownFieldError):
            await source.fetch(ID, {"name", "mobile"})
    assert bodies == [{"GMSFHM": ID, "CXZD": ["XM"]}]
    assert set(result.values) == {"name"}


@pytest.mark.anyio
async def test_untranslatable_code_is_missing_not_guessed(clock: FakeClock):
    cfg = configs()["psb_identity"]
    answer = {"CODE": "0000", "DATA": {"XM": "王", "GJDQ": "999", "CSRQ": "19881345"}}
    source, client = make_source(cfg, lambda r: httpx.Response(200, json=answer), clock)
    async with client:
        result = await source.fetch(ID, {"name", "nationality", "birth_date"})
    assert result.outcome is Outcome.OK
    assert set(result.values) == {"name"}
    assert result.missing == {"nationality", "birth_date"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("response", "outcome", "attempts"),
    [
        (httpx.Response(200, json={"CODE": "1001", "DATA": None}), Outcome.NOT_FOUND, 1),
        (httpx.Response(404), Outcome.NOT_FOUND, 1),
        (httpx.Response(401, json={"detail": "bad signature"}), Outcome.REJECTED, 1),
        (httpx.Response(200, json={"CODE": "9999"}), Outcome.REJECTED, 1),
        (httpx.Response(500), Outcome.UNAVAILABLE, 1),
        (httpx.Response(200, text="<html>"), Outcome.UNAVAILABLE, 1),
        (httpx.Response(503), Outcome.UNAVAILABLE, 3),
    ],
)
async def test_outcomes_and_which_are_retried(response, outcome, attempts, clock: FakeClock):
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return response

    source, client = make_source(configs()["psb_identity"], handler, clock)
    async with client:
        result = await source.fetch(ID, {"name"}, deadline=clock.monotonic() + 10)
    assert result.outcome is outcome
    assert calls == result.attempts == attempts
    assert result.values == {}
    assert ID not in result.detail


@pytest.mark.anyio
async def test_transient_failures_are_retried_with_jittered_backoff_then_succeed(clock: FakeClock):
    answers = iter([httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        exc = next(answers)
        if exc is not None:
            raise exc
        return httpx.Response(200, json={"CODE": "0000", "DATA": {"XM": "王"}})

    source, client = make_source(configs()["psb_identity"], handler, clock)
    async with client:
        result = await source.fetch(ID, {"name"}, deadline=clock.monotonic() + 10)
    assert result.outcome is Outcome.OK and result.attempts == 3
    assert len(clock.slept) == 2
    assert all(0 <= s <= 0.5 for s in clock.slept)


@pytest.mark.anyio
async def test_retries_never_sleep_past_the_deadline(clock: FakeClock):
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, headers={"Retry-After": "5"})

    source, client = make_source(configs()["psb_identity"], handler, clock)
    start = clock.monotonic()
    async with client:
        result = await source.fetch(ID, {"name"}, deadline=start + 1.0)
    assert result.outcome is Outcome.UNAVAILABLE
    assert calls == 1  # Retry-After of 5 s does not fit into a 1 s deadline
    assert clock.monotonic() - start < 1.0


@pytest.mark.anyio
async def test_spent_deadline_makes_no_call(clock: FakeClock):
    source, client = make_source(configs()["psb_identity"], lambda r: httpx.Response(200), clock)
    async with client:
        result = await source.fetch(ID, {"name"}, deadline=clock.monotonic() - 1)
    assert result.outcome is Outcome.TIMEOUT and result.attempts == 0


@pytest.mark.anyio
async def test_attempt_timeout_is_enforced_even_if_the_transport_ignores_it(clock: FakeClock):
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    cfg = configs()["psb_identity"]
    source, client = make_source(
        cfg, handler, clock, timeout_s=0.05, retry=cfg.retry.model_copy(update={"max_attempts": 1})
    )
    async with client:
        result = await source.fetch(ID, {"name"})
    assert result.outcome is Outcome.TIMEOUT


@pytest.mark.anyio
async def test_breaker_opens_fails_fast_and_recovers_through_half_open(clock: FakeClock):
    healthy = False
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return (
            httpx.Response(200, json={"CODE": "0000", "DATA": {"XM": "王"}})
            if healthy
            else httpx.Response(503)
        )

    cfg = configs()["psb_identity"]
    source, client = make_source(
        cfg,
        handler,
        clock,
        retry=cfg.retry.model_copy(update={"max_attempts": 1}),
        breaker=cfg.breaker.model_copy(update={"failure_threshold": 2, "recovery_s": 30}),
        cache=cfg.cache.model_copy(update={"ttl_s": 0}),
    )
    async with client:
        for _ in range(2):
            assert (await source.fetch(ID, {"name"})).outcome is Outcome.UNAVAILABLE
        assert source.breaker_state == "open"
        fast = await source.fetch(ID, {"name"})
        assert (fast.outcome, fast.detail, fast.attempts, calls) == (
            Outcome.UNAVAILABLE,
            "circuit open",
            0,
            2,
        )
        assert fast.retry_at == datetime.fromtimestamp(clock.wall + 30, tz=UTC)

        clock.advance(31)
        assert source.breaker_state == "half_open"
        assert (await source.fetch(ID, {"name"})).outcome is Outcome.UNAVAILABLE  # probe fails: open again
        assert source.breaker_state == "open" and calls == 3

        clock.advance(31)
        healthy = True
        assert (await source.fetch(ID, {"name"})).outcome is Outcome.OK
        assert source.breaker_state == "closed"


@pytest.mark.anyio
async def test_not_found_and_rejected_do_not_open_the_breaker(clock: FakeClock):
    cfg = configs()["psb_identity"]
    source, client = make_source(
        cfg,
        lambda r: httpx.Response(200, json={"CODE": "1001"}),
        clock,
        breaker=cfg.breaker.model_copy(update={"failure_threshold": 1}),
    )
    async with client:
        for _ in range(3):
            assert (await source.fetch(ID, {"name"})).outcome is Outcome.NOT_FOUND
    assert source.breaker_state == "closed"


@pytest.mark.anyio
async def test_cache_hits_are_reported_and_expire(clock: FakeClock):
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"CODE": "0000", "DATA": {"XM": "王", "XB": "1"}})

    cfg = configs()["psb_identity"]
    source, client = make_source(cfg, handler, clock, cache=cfg.cache.model_copy(update={"ttl_s": 60}))
    async with client:
        first = await source.fetch(ID, {"name", "gender"})
        hit = await source.fetch(ID, ["gender", "name"], request_id="second")
        other_fields = await source.fetch(ID, {"name"})
        clock.advance(61)
        expired = await source.fetch(ID, {"name", "gender"})
    assert (first.from_cache, hit.from_cache, other_fields.from_cache, expired.from_cache) == (
        False,
        True,
        False,
        False,
    )
    assert hit.values == first.values and hit.attempts == 0 and hit.request_id == "second"
    assert calls == 3
    keys = list(source.cache._cache.keys())
    assert keys and all(ID not in repr(k) for k in keys)
    assert all(k[0] == pseudonymize(ID) for k in keys)


@pytest.mark.anyio
async def test_failures_are_not_cached(clock: FakeClock):
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"CODE": "1001"})

    source, client = make_source(configs()["psb_identity"], handler, clock)
    async with client:
        await source.fetch(ID, {"name"})
        second = await source.fetch(ID, {"name"})
    assert second.from_cache is False and calls == 2


@pytest.mark.anyio
async def test_maintenance_window_answers_at_once_with_when_it_is_back(clock: FakeClock):
    now = datetime.fromtimestamp(clock.wall, tz=UTC)
    window = {"starts_at": now - timedelta(minutes=5), "ends_at": now + timedelta(minutes=25)}
    cfg = configs()["psb_identity"]
    cfg = SourceConfig.model_validate({**cfg.model_dump(), "maintenance": [window]})
    called = False

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal called
        called = True
        return httpx.Response(200)

    source, client = make_source(cfg, handler, clock)
    async with client:
        result = await source.fetch(ID, {"name"})
        clock.advance(26 * 60)
        after = await source.fetch(ID, {"name"})
    assert result.outcome is Outcome.MAINTENANCE and result.retry_at == window["ends_at"]
    assert result.attempts == 0
    assert after.outcome is not Outcome.MAINTENANCE and called


def test_daily_maintenance_window_crossing_midnight():
    from connectors.config import MaintenanceWindow

    w = MaintenanceWindow.model_validate({"days": ["sun"], "start": "23:00", "end": "02:00"})
    tz_now = datetime.fromisoformat("2024-06-03T01:30:00+08:00")  # Monday 01:30, window began Sunday 23:00
    assert w.back_at(tz_now) == datetime.fromisoformat("2024-06-03T02:00:00+08:00")
    assert w.back_at(datetime.fromisoformat("2024-06-03T23:30:00+08:00")) is None  # Monday: not a window day
    assert w.back_at(datetime.fromisoformat("2024-06-02T22:59:00+08:00")) is None


@pytest.mark.anyio
async def test_concurrency_is_bounded_per_source(clock: FakeClock):
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={"CODE": "0000", "DATA": {"XM": "王"}})

    cfg = configs()["psb_identity"]
    source, client = make_source(
        cfg, handler, clock, max_concurrency=2, cache=cfg.cache.model_copy(update={"ttl_s": 0})
    )
    async with client:
        results = await asyncio.gather(*(source.fetch(ID, {"name"}) for _ in range(8)))
    assert all(r.ok for r in results)
    assert peak == 2


@pytest.mark.anyio
async def test_build_sources_gives_every_configured_source_behind_the_port(clock: FakeClock):
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(503))) as client:
        sources = build_sources(configs(), client, clock=clock, pseudonymize=pseudonymize)
    assert set(sources) == set(CONTRACTS)
    assert all(isinstance(s, Source) for s in sources.values())
    assert sources["hrss_pension"].department == "social_insurance_center"
