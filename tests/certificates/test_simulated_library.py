"""The certificates package against the simulated library (an independent implementation), over HTTP."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from certificates.catalog import load_certificate_types
from certificates.lookup import (
    CertificateLibraryClient,
    LibraryCredentials,
    LookupEvent,
    LookupStatus,
    UseContext,
)
from certificates.model import Certificate, signing_input
from certificates.service import check_certificate
from certificates.verify import ReasonCode, VerificationCache
from certificates.waivers import load_waivers
from connectors.simulator import ecert_data
from connectors.simulator.ecert_library import create_router, router
from connectors.simulator.personas import PERSONAS, persona_by_name

NOW = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
USE = UseContext(
    reason="办理灵活就业一件事，免交纸质材料",
    organisation="武汉市政务服务中心",
    operator="prefill-service",
    matter_name="个人就业登记",
    matter_code="EMP-REG",
    case_number="HB20250601000001",
)

# docs/contracts.md, "Personas": what each persona's certificates must verify as.
EXPECTED: dict[str, dict[str, ReasonCode | None]] = {
    "complete": {"id_card": ReasonCode.VERIFIED, "household_register": ReasonCode.VERIFIED},
    "certificate-revoked": {"id_card": ReasonCode.VERIFIED, "household_register": ReasonCode.REVOKED},
    "certificate-expired": {"id_card": ReasonCode.EXPIRED, "household_register": ReasonCode.VERIFIED},
    "certificate-bad-signature": {
        "id_card": ReasonCode.VERIFIED,
        "household_register": ReasonCode.BAD_SIGNATURE,
    },
    "unknown-person": {"id_card": None, "household_register": None},
    "never-insured": {"id_card": ReasonCode.VERIFIED, "household_register": ReasonCode.VERIFIED},
}


@pytest.fixture(scope="module")
def library() -> ecert_data.EcertLibrary:
    return ecert_data.build_library(b"tests")


@pytest.fixture
async def client(library):
    app = FastAPI()
    app.include_router(create_router(lambda: library))
    events: list[LookupEvent] = []

    async def audit(event: LookupEvent) -> None:
        events.append(event)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        library_client = CertificateLibraryClient(http, "http://sim", on_lookup=audit)
        library_client.events = events  # type: ignore[attr-defined]
        yield library_client


@pytest.mark.parametrize("persona_name", sorted(EXPECTED))
@pytest.mark.anyio
async def test_personas_certificates_verify_as_documented(client, persona_name):
    trust_store = await client.fetch_trust_store()
    assert trust_store.rejected == () and len(trust_store.keys) == 1
    persona = persona_by_name(persona_name)
    cache = VerificationCache()
    for cert_type, expected in EXPECTED[persona_name].items():
        check = await check_certificate(
            client,
            applicant_id_number=persona.id_number,
            certificate_type=cert_type,
            use=USE,
            trust_store=trust_store,
            now=NOW,
            cache=cache,
        )
        if expected is None:
            assert check.lookup.status is LookupStatus.NOT_FOUND and check.verified is None
            assert "no certificate" in check.reason
            continue
        [result] = check.results
        assert result.reason_code is expected, (persona_name, cert_type, result)
        assert (check.verified is not None) is (expected is ReasonCode.VERIFIED)
        assert check.waivable_materials == load_waivers().materials_for(cert_type)
    assert [e.certificate_type for e in client.events] == list(EXPECTED[persona_name])


@pytest.mark.anyio
async def test_certificates_are_not_for_someone_else(client):
    trust_store = await client.fetch_trust_store()
    complete = persona_by_name("complete")
    outcome = await client.lookup(complete.id_number, "id_card", USE)
    from certificates.verify import verify_certificate

    result = verify_certificate(
        outcome.certificates[0],
        trust_store=trust_store,
        now=NOW,
        applicant_id_number=persona_by_name("never-insured").id_number,
    )
    assert result.reason_code is ReasonCode.HOLDER_MISMATCH


@pytest.mark.anyio
async def test_library_refuses_lookups_without_the_five_elements(library):
    app = FastAPI()
    app.include_router(create_router(lambda: library))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        body: dict[str, Any] = {"holder_code": "420102198803150137", "type_code": "11100000000000001M001"}
        assert (await http.post("/ecert/v1/certificates/query", json=body)).status_code == 422
        body["use"] = {**USE.as_wire(), "case_number": ""}
        assert (await http.post("/ecert/v1/certificates/query", json=body)).status_code == 422
        body["use"] = USE.as_wire()
        answer = await http.post("/ecert/v1/certificates/query", json=body)
        assert answer.status_code == 200 and len(answer.json()["certificates"]) == 1


def test_default_router_is_importable_and_lazy():
    paths = {route.path for route in router.routes}  # type: ignore[attr-defined]
    assert paths == {"/ecert/v1/issuers", "/ecert/v1/certificates/query"}


def test_library_is_deterministic_apart_from_signature_values():
    a, b = ecert_data.build_library(b"seed"), ecert_data.build_library(b"seed")
    assert a.published_issuers() == b.published_issuers()
    strip = lambda lib: [  # noqa: E731
        {**c, "seal": {**c["seal"], "signature": ""}} for cs in lib.certificates.values() for c in cs
    ]
    assert strip(a) == strip(b)
    assert ecert_data.build_library(b"other").published_issuers() != a.published_issuers()


def test_library_codes_agree_with_the_certificate_catalogue():
    types = load_certificate_types()
    for key, (name, type_code) in ecert_data.TYPES.items():
        assert types[key].type_code == type_code and types[key].name == name


def test_library_and_package_compute_the_same_signing_input(library):
    for certificates in library.certificates.values():
        for wire in certificates:
            assert ecert_data.signing_input(wire) == signing_input(Certificate.from_wire(wire))


def test_every_persona_with_certificates_is_in_the_library(library):
    for persona in PERSONAS.values():
        for cert_type in persona.certificates:
            type_code = ecert_data.TYPES[cert_type][1]
            assert library.query(persona.id_number, type_code), (persona.name, cert_type)


def test_waivers_name_the_catalogue_material_codes():
    waivers = load_waivers()
    assert waivers.as_mapping() == {
        "id_card": ("resident_id_card",),
        "household_register": ("household_register",),
    }
    assert set(waivers.as_mapping()) <= set(load_certificate_types().by_key)


@pytest.mark.anyio
async def test_inside_the_simulator_app_lookups_must_be_signed_and_faults_apply():
    from connectors.simulator.app import create_simulator_app
    from connectors.simulator.config import SimulatorConfig

    clock = 1_748_743_200.0
    app = create_simulator_app(SimulatorConfig(secrets={"prefill-ecert": "s3cret"}, clock=lambda: clock))

    class Clock:
        def time(self) -> float:
            return clock

        def monotonic(self) -> float:
            return 0.0

        async def sleep(self, seconds: float) -> None:
            return None

    async def audit(event: LookupEvent) -> None:
        return None

    complete = persona_by_name("complete")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        unsigned = CertificateLibraryClient(http, "http://sim", on_lookup=audit)
        assert (await unsigned.lookup(complete.id_number, "id_card", USE)).status is LookupStatus.REJECTED
        signed = CertificateLibraryClient(
            http,
            "http://sim",
            on_lookup=audit,
            credentials=LibraryCredentials("prefill-ecert", "s3cret"),
            clock=Clock(),
        )
        trust_store = await signed.fetch_trust_store()
        check = await check_certificate(
            signed,
            applicant_id_number=complete.id_number,
            certificate_type="id_card",
            use=USE,
            trust_store=trust_store,
            now=NOW,
        )
        assert check.verified is not None
        await http.post("/_faults", json={"source": "ecert_library", "down": True})
        down = await signed.lookup(complete.id_number, "id_card", USE)
        assert down.status is LookupStatus.UNAVAILABLE
