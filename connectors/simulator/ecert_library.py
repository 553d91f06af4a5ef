"""The simulated provincial e-certificate library (省数据局 电子证照库) as a FastAPI router.

Routes (mounted by ``connectors.simulator.app``):

- ``GET /ecert/v1/issuers`` — the issuers' public keys (PEM) and algorithms;
- ``POST /ecert/v1/certificates/query`` — a holder's certificates of one type. The use reason and the
  five elements are required (422 without them), as the real library refuses unexplained lookups.

State comes from :mod:`connectors.simulator.ecert_data`, built deterministically from a seed. When the
router runs inside the simulator app (``app.state.simulator``), queries must be signed like every
other source (:func:`connectors.simulator.security.check_signature`) and the ``ecert_library`` fault
(latency, 503) applies; mounted on a bare app (unit tests) it only checks the request body.
"""

# No ``from __future__ import annotations``: FastAPI must see the closure's Depends(library) objects.
import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from connectors.simulator.ecert_data import EcertLibrary, default_library
from connectors.simulator.security import check_signature

FAULT_SOURCE = "ecert_library"

_Text = Annotated[str, Field(min_length=1, max_length=200)]


class UseElements(BaseModel):
    """用证事由 and the five elements of a certificate use."""

    reason: _Text
    organisation: _Text
    organisation_code: Annotated[str, Field(max_length=18)] = ""
    operator: _Text
    matter_name: _Text
    matter_code: _Text
    case_number: _Text


class CertificateQuery(BaseModel):
    holder_code: Annotated[str, Field(min_length=1, max_length=32)]
    holder_code_type: Annotated[str, Field(pattern=r"^[0-9]{3}$")] = "111"
    type_code: Annotated[str, Field(min_length=1, max_length=32)]
    use: UseElements


class CertificateAnswer(BaseModel):
    certificates: list[dict[str, Any]]


class IssuersAnswer(BaseModel):
    issuers: list[dict[str, str]]


async def simulator_gate(request: Request) -> None:
    """Signature check and injected faults, when mounted in the simulator app."""
    state = getattr(request.app.state, "simulator", None)
    if state is None:
        return
    await check_signature(request)
    fault = state.fault(FAULT_SOURCE)
    if fault.latency_ms > 0:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.down or (fault.error_rate > 0 and state.rng.random() < fault.error_rate):
        raise HTTPException(503, detail="e-certificate library unavailable")


def create_router(library: Callable[[], EcertLibrary] = default_library) -> APIRouter:
    """A router serving ``library()`` (built lazily on the first request)."""
    router = APIRouter(prefix="/ecert/v1", tags=["e-certificate library (simulated)"])

    @router.get("/issuers", summary="Issuers' public keys", response_model=IssuersAnswer)
    def issuers(lib: Annotated[EcertLibrary, Depends(library)]) -> dict[str, Any]:
        return lib.published_issuers()

    @router.post(
        "/certificates/query",
        summary="A holder's certificates of one type (signed)",
        response_model=CertificateAnswer,
        dependencies=[Depends(simulator_gate)],
    )
    def query(body: CertificateQuery, lib: Annotated[EcertLibrary, Depends(library)]) -> dict[str, Any]:
        return {"certificates": lib.query(body.holder_code, body.type_code)}

    return router


router = create_router()
