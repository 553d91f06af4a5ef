"""``GET /metrics``: the app's Prometheus metrics in the text exposition format.

Who may read it is the access matrix's call (``prefill/auth/policy.py``: ``metrics.read``). The figures
hold no personal values, but they do show traffic, source health and breaker states, which are
operational information: a scraper authenticates with a client key like any other caller.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from prefill.deps import StateDep
from prefill.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics: source latencies and outcomes, breakers, cache, audit append, prefills",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
def metrics(state: StateDep) -> Response:
    return Response(content=state.metrics.exposition(), media_type=CONTENT_TYPE)
