"""GET /metrics: Prometheus text with the service's families after a prefill; labels are source ids and
outcome names only; readable by operators and auditors, not by the frontends."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.base import Outcome
from connectors.resilience import BreakerState
from connectors.simulator.config import SimulatorConfig
from connectors.simulator.identity import issue_assertion
from connectors.simulator.personas import persona_by_name
from prefill.metrics import CACHE_HIT, PrefillMetrics

FAMILIES = {
    "prefill_source_read_seconds": "histogram",
    "prefill_source_cache_lookups": "counter",
    "prefill_source_breaker_state": "gauge",
    "prefill_certificate_check_seconds": "histogram",
    "prefill_audit_append_seconds": "histogram",
    "prefill_audit_records_appended": "counter",
    "prefill_request_seconds": "histogram",
}
# Label names the service's own families may carry, and what their values may be.
ALLOWED_LABELS = {"source", "outcome", "result", "state", "certificate_type", "theme", "le"}


def _prefill(client, auth_headers, persona: str) -> dict:
    headers = {
        **auth_headers("frontend"),
        "X-Applicant-Assertion": issue_assertion(SimulatorConfig(), persona_by_name(persona).id_number),
    }
    response = client.post("/v1/prefill", json={}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _scrape(client, auth_headers) -> tuple[str, dict[str, list]]:
    response = client.get("/metrics", headers=auth_headers("admin"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    return response.text, families


def _value(family, **labels: str) -> float:
    """The value of the sample whose labels include ``labels`` (``_count`` for histograms)."""
    suffix = "_count" if family.type == "histogram" else ("_total" if family.type == "counter" else "")
    matches = [
        s.value
        for s in family.samples
        if s.name == family.name + suffix and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matches) == 1, (family.name, labels, family.samples)
    return matches[0]


def test_a_prefill_is_measured_by_source_outcome_cache_audit_and_end_to_end(client, auth_headers):
    _prefill(client, auth_headers, "source-down")  # hrss_pension answers 503: an `unavailable` outcome
    _prefill(client, auth_headers, "complete")
    _prefill(client, auth_headers, "complete")  # the same reads again: served from the cache
    text, families = _scrape(client, auth_headers)

    for name, kind in FAMILIES.items():
        assert families[name].type == kind, name
    sources = set(client.app.state.prefill.runtime.sources)
    reads = families["prefill_source_read_seconds"]
    assert _value(reads, source="hrss_pension", outcome=Outcome.UNAVAILABLE.value) == 1
    assert _value(reads, source="psb_identity", outcome=Outcome.OK.value) == 2  # source-down + complete
    assert _value(reads, source="psb_identity", outcome=CACHE_HIT) == 1
    cache = families["prefill_source_cache_lookups"]
    assert _value(cache, source="psb_identity", result="hit") == 1
    assert _value(cache, source="psb_identity", result="miss") == 2
    assert _value(families["prefill_request_seconds"], theme="flexible-employment", result="ok") == 3
    assert _value(families["prefill_audit_append_seconds"], result="ok") == 3
    checks = families["prefill_certificate_check_seconds"]
    read_count = sum(s.value for s in reads.samples if s.name == "prefill_source_read_seconds_count")
    lookups = sum(s.value for s in checks.samples if s.name == "prefill_certificate_check_seconds_count")
    # One record per source read and per certificate lookup, appended together.
    assert _value(families["prefill_audit_records_appended"]) == read_count + lookups
    assert _value(checks, certificate_type="id_card", result="verified") >= 1
    # Breakers: one 1 per source, on its current state (retries of one prefill do not open it).
    breakers = families["prefill_source_breaker_state"]
    for source in sources:
        states = {s.labels["state"]: s.value for s in breakers.samples if s.labels["source"] == source}
        assert states == {s.value: (1.0 if s is BreakerState.CLOSED else 0.0) for s in BreakerState}
    # Labels of the service's families: fixed names, values from the catalogue, sources and outcomes.
    known_values = sources | {o.value for o in Outcome} | {s.value for s in BreakerState} | {
        CACHE_HIT, "hit", "miss", "ok", "failed", "verified", "refused", "lookup_failed",
        "flexible-employment", "id_card", "household_register",
    }  # fmt: skip
    for name in FAMILIES:
        for sample in families[name].samples:
            assert set(sample.labels) <= ALLOWED_LABELS, sample
            values = {v for k, v in sample.labels.items() if k != "le"}
            assert values <= known_values, sample
    # And no personal value anywhere in the exposition.
    for persona in ("complete", "source-down"):
        p = persona_by_name(persona)
        for value in (p.id_number, p.full_name, p.mobile, p.birth_date):
            assert value not in text


def test_failed_prefills_are_counted_by_their_error_code(client, auth_headers):
    headers = {
        **auth_headers("frontend"),
        "X-Applicant-Assertion": issue_assertion(SimulatorConfig(), persona_by_name("complete").id_number),
    }
    response = client.post("/v1/prefill", json={"matters": ["no-such-matter"]}, headers=headers)
    assert response.status_code == 422
    _, families = _scrape(client, auth_headers)
    requests = families["prefill_request_seconds"]
    assert _value(requests, theme="flexible-employment", result="unknown_matter") == 1


def test_an_open_breaker_shows_at_scrape_time(client, auth_headers):
    source = client.app.state.prefill.runtime.sources["medical_insurance"]
    for _ in range(source.config.breaker.failure_threshold):
        source.breaker.record_failure()
    _, families = _scrape(client, auth_headers)
    breakers = families["prefill_source_breaker_state"]
    assert _value(breakers, source="medical_insurance", state="open") == 1
    assert _value(breakers, source="medical_insurance", state="closed") == 0
    assert _value(breakers, source="psb_identity", state="closed") == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("auditor", 200), ("frontend", 403), ("window", 403), ("department", 403)],
)
def test_metrics_are_for_operators_and_auditors(client, auth_headers, role, status):
    assert client.get("/metrics", headers=auth_headers(role)).status_code == status


def test_metrics_need_a_client_key(client):
    assert client.get("/metrics").status_code == 401


def test_each_app_has_its_own_registry():
    first, second = PrefillMetrics(process=False), PrefillMetrics(process=False)
    first.observe_prefill("flexible-employment", "ok", 0.01)
    assert first.registry is not second.registry
    sample = rb'prefill_request_seconds_count\{result="ok",theme="flexible-employment"\} 1\.0'
    assert re.search(sample, first.exposition())
    assert b"prefill_request_seconds_count" not in second.exposition()
