"""Simulated unified acceptance platform (统一受理平台): receives split department forms.

``POST /uap/v1/forms`` needs a signed request and an ``Idempotency-Key``: the same key with the same
body answers the same receipt (200) without storing a duplicate; the same key with another body is a
conflict (422). ``GET /uap/v1/forms`` lists what was received (for tests).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from connectors.simulator.config import ACCEPTANCE_SOURCE, SimulatorState
from connectors.simulator.security import check_signature

router = APIRouter(prefix="/uap/v1", tags=["unified acceptance platform (simulated)"])


@router.post("/forms", summary="Receive one split department form", status_code=201)
async def receive_form(
    request: Request,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
    app_key: str = Depends(check_signature),
) -> JSONResponse:
    state: SimulatorState = request.app.state.simulator
    fault = state.fault(ACCEPTANCE_SOURCE)
    if fault.down or (fault.error_rate and state.rng.random() < fault.error_rate):
        return JSONResponse({"detail": "acceptance platform unavailable"}, status_code=503)
    if not idempotency_key:
        raise HTTPException(400, detail="Idempotency-Key header required")
    try:
        form = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, detail="body is not JSON") from None
    if not isinstance(form, dict):
        raise HTTPException(400, detail="body must be a JSON object")
    digest = hashlib.sha256(json.dumps(form, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    existing = state.received.get(idempotency_key)
    if existing is not None:
        if existing["body_sha256"] != digest:
            raise HTTPException(422, detail="Idempotency-Key reused with a different body")
        return JSONResponse(existing["receipt"], status_code=200)
    receipt = {
        "receipt_id": f"UAP{len(state.received) + 1:010d}",
        "idempotency_key": idempotency_key,
        "received_at": datetime.fromtimestamp(state.config.clock(), tz=UTC).isoformat(),
        "department": form.get("department"),
        "form": form.get("form"),
    }
    state.received[idempotency_key] = {
        "receipt": receipt,
        "body_sha256": digest,
        "body": form,
        "app_key": app_key,
    }
    return JSONResponse(receipt, status_code=201)


@router.get("/forms", summary="List received forms (simulator inspection)")
async def list_forms(request: Request) -> dict[str, Any]:
    state: SimulatorState = request.app.state.simulator
    return {"items": [{**v["receipt"], "body": v["body"]} for v in state.received.values()]}
