"""The simulated department sources as one FastAPI app (``prefill simulate`` or mounted in-process).

Routes: one signed query endpoint per source (``departments.DEPARTMENTS``), the identity platform
(``/idp/v1``), the unified acceptance platform (``/uap/v1``), the e-certificate library when its module
is present, and simulator administration (``/_faults``, ``/_personas``, ``/healthz``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.simulator import acceptance, identity
from connectors.simulator.config import Fault, SimulatorConfig, SimulatorState
from connectors.simulator.departments import DEPARTMENTS, Department, render
from connectors.simulator.personas import PERSONAS, Persona, persona_by_id_number
from connectors.simulator.population import generated_citizen
from connectors.simulator.security import check_signature


class RequestIdEcho:
    """Pure ASGI middleware: answer with the caller's ``X-Request-ID`` (cheaper than BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        if request_id is None:
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _record_version(record: Any) -> str:
    canonical = json.dumps(dict(record), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(canonical).hexdigest()[:12]


def _find_citizen(state: SimulatorState, subject: str) -> Persona | None:
    persona = persona_by_id_number(subject)
    if persona is None and state.config.serve_population:
        persona = generated_citizen(subject)
    return persona


def _department_endpoint(dept: Department) -> Callable[..., Awaitable[JSONResponse]]:
    async def endpoint(request: Request, app_key: str = Depends(check_signature)) -> JSONResponse:
        state: SimulatorState = request.app.state.simulator
        fault = state.fault(dept.source_id)
        if fault.latency_ms > 0:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.down or (fault.error_rate > 0 and state.rng.random() < fault.error_rate):
            return JSONResponse({"detail": "source unavailable"}, status_code=503)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(dept.bad_request("body is not JSON"), status_code=400)
        subject = body.get(dept.subject_field) if isinstance(body, dict) else None
        names = body.get(dept.fields_field) if isinstance(body, dict) else None
        if not isinstance(subject, str) or not isinstance(names, list) or not names:
            return JSONResponse(
                dept.bad_request(f"{dept.subject_field} and {dept.fields_field} required"), status_code=400
            )
        unknown = [n for n in names if n not in dept.fields]
        if unknown:
            return JSONResponse(dept.bad_request(f"unknown fields: {unknown}"), status_code=400)
        citizen = _find_citizen(state, subject)
        if citizen is not None:
            behaviour = citizen.behaviour(dept.source_id)
            if behaviour.latency_s > 0:
                await asyncio.sleep(behaviour.latency_s * state.config.persona_latency_scale)
            if behaviour.status is not None:
                return JSONResponse({"detail": "source unavailable"}, status_code=behaviour.status)
        record = citizen.record(dept.source_id) if citizen is not None else None
        holdings = citizen.holdings(dept.source_id) if citizen is not None else None
        if record is None or holdings is None:
            return JSONResponse(dept.not_found())
        return JSONResponse(dept.ok(render(dept, holdings, names), _record_version(record)))

    endpoint.__name__ = f"query_{dept.source_id}"
    return endpoint


class FaultUpdate(BaseModel):
    source: str
    latency_ms: int = Field(default=0, ge=0, le=120_000)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    down: bool = False


admin = APIRouter(tags=["simulator administration"])


@admin.post("/_faults", summary="Inject (or clear, with all defaults) a fault for one source")
async def set_fault(update: FaultUpdate, request: Request) -> dict[str, Any]:
    state: SimulatorState = request.app.state.simulator
    known = {*DEPARTMENTS, "unified_acceptance", "ecert_library", "identity_platform"}
    if update.source not in known:
        raise HTTPException(404, detail=f"unknown source; known: {sorted(known)}")
    fault = Fault(latency_ms=update.latency_ms, error_rate=update.error_rate, down=update.down)
    if fault.is_active():
        state.faults[update.source] = fault
    else:
        state.faults.pop(update.source, None)
    return {"faults": {k: vars(v) for k, v in state.faults.items()}}


@admin.get("/_faults", summary="Faults in force")
async def get_faults(request: Request) -> dict[str, Any]:
    state: SimulatorState = request.app.state.simulator
    return {"faults": {k: vars(v) for k, v in state.faults.items()}}


@admin.delete("/_faults", summary="Clear all faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    state: SimulatorState = request.app.state.simulator
    state.faults.clear()
    return {"faults": {}}


@admin.get("/_personas", summary="The documented test personas (synthetic)")
async def list_personas() -> dict[str, Any]:
    return {"items": [p.as_dict() for p in PERSONAS.values()]}


@admin.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_simulator_app(config: SimulatorConfig | None = None) -> FastAPI:
    """Build the simulator. Each call has its own state (faults, nonces, received forms)."""
    config = config or SimulatorConfig()
    app = FastAPI(
        title="Simulated department sources (灵活就业一件事)",
        description="Synthetic stand-ins for the departments' shared sources. Simulated mode only.",
        version="0.1.0",
    )
    app.state.simulator = SimulatorState(config)
    for dept in DEPARTMENTS.values():
        app.add_api_route(
            dept.path,
            _department_endpoint(dept),
            methods=["POST"],
            summary=f"Query {dept.source_id} (signed)",
            tags=["department sources (simulated)"],
        )
    app.include_router(identity.router)
    app.include_router(acceptance.router)
    app.include_router(admin)
    _include_ecert_library(app, config)
    app.add_middleware(RequestIdEcho)
    return app


def _include_ecert_library(app: FastAPI, config: SimulatorConfig) -> None:
    """Mount the e-certificate library (written with ``certificates/``) when it is present."""
    try:
        from connectors.simulator import ecert_library  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    install = getattr(ecert_library, "install", None)
    if callable(install):
        install(app, config)
    router = getattr(ecert_library, "router", None)
    if router is not None:
        app.include_router(router)
