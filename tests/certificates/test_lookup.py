import json

import httpx
import pytest

from certificates.lookup import (
    QUERY_PATH,
    CertificateLibraryClient,
    LibraryCredentials,
    LookupEvent,
    LookupStatus,
    UseContext,
)
from connectors.signing import verify_signature

APPLICANT = "420102198803150137"
BASE = "https://ecert.example.gov.cn/api"
USE = UseContext(
    reason="办理灵活就业一件事，核验居民身份证",
    organisation="武汉市江岸区政务服务中心",
    operator="prefill-service",
    matter_name="个人就业登记",
    matter_code="11420000MB1234567X4000112001000",
    case_number="HB20250601000001",
)


class FixedClock:
    def time(self) -> float:
        return 1_748_743_200.0

    def monotonic(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        return None


def make_client(handler, events, *, audit=None, credentials=None, **kwargs):
    async def record(event: LookupEvent) -> None:
        events.append(event)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return http, CertificateLibraryClient(
        http, BASE, on_lookup=audit or record, credentials=credentials, clock=FixedClock(), **kwargs
    )


@pytest.mark.anyio
async def test_lookup_sends_use_and_five_elements_signed_and_audits(sm2_signer):
    seen: list[httpx.Request] = []
    wire = sm2_signer.certificate()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"certificates": [wire]})

    events: list[LookupEvent] = []
    creds = LibraryCredentials("app-prefill", "s3cret", "HMAC-SM3")
    http, client = make_client(handler, events, credentials=creds)
    async with http:
        outcome = await client.lookup(APPLICANT, "id_card", USE)

    assert outcome.status is LookupStatus.OK
    assert [c.identifier for c in outcome.certificates] == [wire["identifier"]]
    request = seen[0]
    assert request.url.path == "/api" + QUERY_PATH
    assert APPLICANT not in str(request.url)  # the ID number is in the signed body only
    body = json.loads(request.content)
    assert body["holder_code"] == APPLICANT and body["type_code"] == "11100000000000001M001"
    assert body["use"]["reason"] == USE.reason and body["use"]["case_number"] == USE.case_number
    assert {"organisation", "operator", "matter_name", "matter_code"} <= body["use"].keys()
    headers = request.headers
    assert headers["X-App-Key"] == "app-prefill" and headers["X-Timestamp"] == "1748743200"
    assert verify_signature(
        "POST",
        request.url.path,
        request.content,
        secret="s3cret",
        method=headers["X-Signature-Method"],
        timestamp=headers["X-Timestamp"],
        nonce=headers["X-Nonce"],
        signature=headers["X-Signature"],
    )
    [event] = events
    assert event.status is LookupStatus.OK and event.use is USE
    assert event.identifiers == (wire["identifier"],)
    assert event.holder_id_number == APPLICANT and event.certificate_type == "id_card"
    assert event.request_id == outcome.request_id == request.headers["X-Request-Id"]
    assert event.library == "ecert.example.gov.cn"


@pytest.mark.anyio
async def test_audit_runs_before_the_result_and_its_failure_withholds_certificates(sm2_signer):
    async def broken_audit(event: LookupEvent) -> None:
        raise RuntimeError("audit store down")

    def handler(request):
        return httpx.Response(200, json={"certificates": [sm2_signer.certificate()]})

    http, client = make_client(handler, [], audit=broken_audit)
    async with http:
        outcome = await client.lookup(APPLICANT, "id_card", USE)
    assert outcome.status is LookupStatus.AUDIT_FAILED
    assert outcome.certificates == () and "RuntimeError" in outcome.detail


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (httpx.Response(200, json={"certificates": []}), LookupStatus.NOT_FOUND),
        (httpx.Response(404, json={}), LookupStatus.NOT_FOUND),
        (httpx.Response(422, json={"detail": "use.reason missing"}), LookupStatus.REJECTED),
        (httpx.Response(401), LookupStatus.REJECTED),
        (httpx.Response(503), LookupStatus.UNAVAILABLE),
        (httpx.Response(200, content=b"<html>"), LookupStatus.UNAVAILABLE),
        (httpx.Response(200, json=["not", "an", "object"]), LookupStatus.UNAVAILABLE),
        (httpx.Response(200, json={"certificates": "nope"}), LookupStatus.UNAVAILABLE),
        (httpx.Response(200, json={"certificates": [{"junk": 1}]}), LookupStatus.UNAVAILABLE),
    ],
)
@pytest.mark.anyio
async def test_library_answers_map_to_statuses_and_are_audited(response, status):
    events: list[LookupEvent] = []
    http, client = make_client(lambda request: response, events)
    async with http:
        outcome = await client.lookup(APPLICANT, "household_register", USE)
    assert outcome.status is status and outcome.certificates == ()
    assert [e.status for e in events] == [status]
    assert events[0].http_status == response.status_code


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (httpx.ConnectTimeout("slow"), LookupStatus.TIMEOUT),
        (httpx.ReadTimeout("slow"), LookupStatus.TIMEOUT),
        (httpx.ConnectError("refused"), LookupStatus.UNAVAILABLE),
        (httpx.RemoteProtocolError("eof"), LookupStatus.UNAVAILABLE),
    ],
)
@pytest.mark.anyio
async def test_transport_failures_never_raise(error, status):
    def handler(request):
        raise error

    events: list[LookupEvent] = []
    http, client = make_client(handler, events)
    async with http:
        outcome = await client.lookup(APPLICANT, "id_card", USE)
    assert outcome.status is status
    assert events[0].status is status and events[0].http_status is None


@pytest.mark.anyio
async def test_malformed_and_wrong_type_entries_are_set_aside(sm2_signer):
    good = sm2_signer.certificate()
    other_type = sm2_signer.certificate(type_code="11100000000000001M002")

    def handler(request):
        return httpx.Response(200, json={"certificates": [{"junk": True}, good, other_type, "x"]})

    http, client = make_client(handler, [])
    async with http:
        outcome = await client.lookup(APPLICANT, "id_card", USE)
    assert outcome.status is LookupStatus.OK
    assert outcome.certificates[0].identifier == good["identifier"] and len(outcome.certificates) == 1
    assert len(outcome.malformed) == 3
    assert "another type" in outcome.malformed[1]


@pytest.mark.anyio
async def test_unknown_certificate_type_sends_nothing_but_is_audited():
    def handler(request):
        raise AssertionError("no request expected")

    events: list[LookupEvent] = []
    http, client = make_client(handler, events)
    async with http:
        outcome = await client.lookup(APPLICANT, "driving_licence", USE)
    assert outcome.status is LookupStatus.UNKNOWN_TYPE
    assert events[0].status is LookupStatus.UNKNOWN_TYPE and events[0].type_code is None


@pytest.mark.parametrize(
    "missing", ["reason", "organisation", "operator", "matter_name", "matter_code", "case_number"]
)
def test_use_context_requires_the_reason_and_five_elements(missing):
    values = {
        "reason": "r",
        "organisation": "o",
        "operator": "p",
        "matter_name": "m",
        "matter_code": "c",
        "case_number": "n",
    }
    values[missing] = "  "
    with pytest.raises(ValueError, match=missing):
        UseContext(**values)
