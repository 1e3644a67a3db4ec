"""Policy administration routes: ``GET /policies``, ``POST /policies/reload``,
``GET /policies/shadow``. Reading needs an auditor or admin key, changing an admin key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from policy_engine.access import Principal
from policy_engine.api.auth import AUTH_RESPONSES, require_role
from policy_engine.api.service import service_of
from policy_engine.logs import get_logger
from policy_engine.models import ErrorBody
from policy_engine.policy.cache import CachedEvaluator
from policy_engine.policy.reloader import ReloadOutcome

log = get_logger("policy_engine.api.policies")

router = APIRouter(prefix="/policies", tags=["policies"], responses=AUTH_RESPONSES)
ADMIN = require_role("admin")
READER = require_role("auditor", "admin")


def outcome_body(outcome: ReloadOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "revision": outcome.revision,
        "previous_revision": outcome.previous_revision,
        "candidate_revision": outcome.candidate_revision,
        "tests_run": outcome.tests_run,
        "errors": outcome.errors,
        "shadow": outcome.shadow,
    }


@router.get("", summary="The active policy set")
async def active_policies(
    request: Request, _: Annotated[Principal, Depends(READER)]
) -> dict[str, Any]:
    service = service_of(request)
    reloader = service.reloader
    last = reloader.last if reloader is not None else None
    shadow = service.shadow.current if service.shadow is not None else None
    evaluator = service.engine.evaluator
    cache = evaluator if isinstance(evaluator, CachedEvaluator) else None
    inner = evaluator if cache is None else cache.inner
    return {
        "revision": evaluator.revision,
        "backend": getattr(inner, "backend", type(inner).__name__),
        "result_cache": None
        if cache is None
        else {"entries": len(cache), "hits": cache.hits, "misses": cache.misses},
        "reload": "enabled" if reloader is not None else "disabled",
        "last_reload": outcome_body(last) if last is not None else None,
        "shadow_revision": shadow.revision if shadow is not None else None,
    }


@router.post(
    "/reload",
    summary="Reload PE_POLICIES_DIR: compile, run its tests, then swap",
    responses={
        422: {"model": ErrorBody, "description": "The new set was rejected; the old one serves"},
        409: {"model": ErrorBody, "description": "Reload is not enabled in this process"},
    },
)
async def reload_policies(
    request: Request, principal: Annotated[Principal, Depends(ADMIN)]
) -> JSONResponse:
    reloader = service_of(request).reloader
    if reloader is None:
        body = ErrorBody(
            error="reload_unavailable", message="this service was started without a reloader"
        )
        return JSONResponse(body.model_dump(), status_code=409)
    log.info("policies_reload_requested", caller=principal.key_id)
    outcome = await run_in_threadpool(reloader.reload, trigger="api")
    if outcome.applied:
        return JSONResponse(outcome_body(outcome))
    body = ErrorBody(
        error="policies_rejected",
        message=(
            f"the policy set in {reloader.directory} was rejected; revision"
            f" {outcome.revision} keeps serving"
        ),
        details=[{"problem": line} for line in outcome.errors],
    )
    return JSONResponse(body.model_dump(), status_code=422)


@router.get(
    "/shadow",
    summary="Shadow mode (PE_SHADOW_POLICIES_DIR): the candidate's counters, or why it was refused",
)
async def shadow_stats(request: Request, _: Annotated[Principal, Depends(ADMIN)]) -> dict[str, Any]:
    service = service_of(request)
    slot = service.shadow
    if slot is None:
        return {"enabled": False, "directory": None, "refused": None}
    return {"active_revision": service.engine.evaluator.revision, **slot.status()}
