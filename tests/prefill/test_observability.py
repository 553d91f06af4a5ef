"""Logs and request ids: the caller's X-Request-ID reaches every department source, and no log record
of a prefill — at any level, from any logger — carries a persona's ID number, name or mobile."""

from __future__ import annotations

import logging

import httpx

from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import PERSONAS, persona_by_name
from prefill.logs import JsonFormatter, configure_logging


def _headers(auth_headers, persona: str, **extra: str) -> dict[str, str]:
    return {
        **auth_headers("frontend"),
        "X-Applicant-Assertion": issue_assertion(SimulatorConfig(), persona_by_name(persona).id_number),
        **extra,
    }


def test_the_callers_request_id_reaches_every_source_and_comes_back(client, auth_headers):
    runtime = client.app.state.prefill.runtime
    source_paths = {httpx.URL(s.config.url).path for s in runtime.sources.values()}
    seen: list[tuple[str, str | None, str | None]] = []

    async def record(response: httpx.Response) -> None:
        # What we sent, and what the simulator says it received (it echoes the header back).
        seen.append(
            (response.request.url.path, response.request.headers.get("x-request-id"),
             response.headers.get("x-request-id"))
        )  # fmt: skip

    runtime.http.event_hooks = {"request": [], "response": [record]}
    headers = _headers(auth_headers, "complete", **{"X-Request-ID": "trace-42.a"})
    response = client.post("/v1/prefill", json={}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "trace-42.a"

    source_calls = [call for call in seen if call[0] in source_paths]
    assert len(source_calls) == len({path for path, _, _ in source_calls}) >= 6  # each source, once
    assert all(sent == echoed == "trace-42.a" for _, sent, echoed in source_calls), source_calls
    # The certificate lookups carry it too (the issuers' keys are fetched once, for no one request).
    lookups = [call for call in seen if call[0].endswith("/certificates/query")]
    assert len(lookups) == 2 and all(sent == echoed == "trace-42.a" for _, sent, echoed in lookups), lookups


def test_without_a_request_id_the_service_makes_one_and_passes_that_on(client, auth_headers):
    runtime = client.app.state.prefill.runtime
    echoed: set[str | None] = set()

    async def record(response: httpx.Response) -> None:
        echoed.add(response.headers.get("x-request-id"))

    runtime.http.event_hooks = {"request": [], "response": [record]}
    response = client.post("/v1/prefill", json={}, headers=_headers(auth_headers, "complete"))
    assert response.status_code == 200
    assert echoed - {None} == {response.headers["x-request-id"]}  # None: the issuers' keys, fetched once


def _rendered(record: logging.LogRecord) -> str:
    # As the service writes it (JSON with every `extra`), plus everything the record holds.
    return JsonFormatter().format(record) + repr(record.__dict__)


def test_no_personal_value_in_any_log_record_or_metric(client, auth_headers, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: every logger's records, at every level
    for persona in PERSONAS.values():
        response = client.post("/v1/prefill", json={}, headers=_headers(auth_headers, persona.name))
        assert response.status_code == 200, (persona.name, response.text)
    # Refusals log too: a replayed assertion, and an unknown matter.
    assertion = issue_assertion(SimulatorConfig(), persona_by_name("complete").id_number)
    headers = {**auth_headers("frontend"), "X-Applicant-Assertion": assertion}
    assert client.post("/v1/prefill", json={}, headers=headers).status_code == 200
    assert client.post("/v1/prefill", json={}, headers=headers).status_code == 401
    exposition = client.get("/metrics", headers=auth_headers("admin")).text

    records = caplog.records
    assert len(records) > len(PERSONAS)  # the capture saw the service's logs
    loggers = {r.name for r in records}
    # It saw the paths that handle personal data: the applicant's assertion, and failing source reads.
    assert "prefill.auth.policy" in loggers and "connectors.http" in loggers, loggers
    for persona in PERSONAS.values():
        for value in (persona.id_number, persona.full_name, persona.mobile):
            for record in records:
                assert value not in _rendered(record), (persona.name, record.name, record.getMessage())
            assert value not in exposition, persona.name


def test_outbound_calls_are_not_logged_one_line_each_unless_debugging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("httpx").level
    try:
        configure_logging("INFO")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("connectors.http").getEffectiveLevel() == logging.INFO
        configure_logging("DEBUG")
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG
    finally:
        root.handlers[:], level, httpx_level = saved
        root.setLevel(level)
        logging.getLogger("httpx").setLevel(httpx_level)
