"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from prefill.db import ping
from prefill.deps import EngineDep
from prefill.errors import UnavailableError

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: the database answers")
async def readyz(engine: EngineDep) -> Health:
    try:
        await run_in_threadpool(ping, engine)
    except Exception as exc:
        log.warning("database not ready", extra={"error_type": type(exc).__name__})
        raise UnavailableError("the database is unreachable") from None
    return Health(status="ready")
