"""Operations routes: ``GET /metrics`` (Prometheus text format).

``/metrics`` needs no key, like ``/healthz`` and ``/readyz``: it carries counts, durations,
rule ids, entity types and the policy revision, never content, keys or user ids. Expose the
port only to the gateway and the operations network (see docs/operations.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from policy_engine.metrics import CONTENT_TYPE, Metrics

router = APIRouter()


@router.get(
    "/metrics",
    summary="Prometheus metrics: decisions, rules, entity types, latencies, failures",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    body = await run_in_threadpool(registry.render)
    return Response(content=body, media_type=CONTENT_TYPE)
