"""The simulated provincial e-certificate library (省数据局 电子证照库) as a FastAPI router.

Routes (mounted by the simulator app; request signing is checked by the app's dependencies, e.g.
``app.include_router(router, dependencies=[...])``):

- ``GET /ecert/v1/issuers`` — the issuers' public keys (PEM) and algorithms;
- ``POST /ecert/v1/certificates/query`` — a holder's certificates of one type. The use reason and the
  five elements are required (422 without them), as the real library refuses unexplained lookups.

State comes from :mod:`connectors.simulator.ecert_data`, built deterministically from a seed.
"""

# No ``from __future__ import annotations``: FastAPI must see the closure's Depends(library) objects.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from connectors.simulator.ecert_data import EcertLibrary, default_library

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


def create_router(library: Callable[[], EcertLibrary] = default_library) -> APIRouter:
    """A router serving ``library()`` (built lazily on the first request)."""
    router = APIRouter(prefix="/ecert/v1", tags=["e-certificate library (simulated)"])

    @router.get("/issuers", summary="Issuers' public keys", response_model=IssuersAnswer)
    def issuers(lib: Annotated[EcertLibrary, Depends(library)]) -> dict[str, Any]:
        return lib.published_issuers()

    @router.post(
        "/certificates/query", summary="A holder's certificates of one type", response_model=CertificateAnswer
    )
    def query(body: CertificateQuery, lib: Annotated[EcertLibrary, Depends(library)]) -> dict[str, Any]:
        return {"certificates": lib.query(body.holder_code, body.type_code)}

    return router


router = create_router()
