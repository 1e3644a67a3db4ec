"""Operators' routes: ``GET /healthz``, ``GET /readyz`` and ``GET /metrics`` (Prometheus).

None needs a key: they carry counts, durations, rule ids, entity types and the policy
revision, never content, keys or user ids. Expose the port only to the gateway and the
operations network (see docs/operations.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from policy_engine.api.service import service_of
from policy_engine.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Models loaded, policies compiled, audit store writable",
    responses={503: {"description": "Not ready: the audit store is not writable"}},
)
async def readyz(request: Request) -> JSONResponse:
    engine = service_of(request).engine
    writable = await run_in_threadpool(engine.audit_log.writable)
    checks = {
        "detection": "ok",
        "policies": engine.evaluator.revision,
        "audit_store": "ok" if writable else "not writable",
    }
    status = 200 if writable else 503
    return JSONResponse({"ready": writable, "checks": checks}, status_code=status)


@router.get(
    "/metrics",
    summary="Prometheus metrics: decisions, rules, entity types, latencies, failures",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    registry = service_of(request).metrics
    if registry is None:
        return Response(content="", media_type=CONTENT_TYPE)
    body = await run_in_threadpool(registry.render)
    return Response(content=body, media_type=CONTENT_TYPE)
