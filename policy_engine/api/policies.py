"""Policy administration routes: ``GET /policies``, ``POST /policies/reload``,
``GET /policies/shadow``. Reading needs an auditor or admin key, changing an admin key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from policy_engine.access import Principal
from policy_engine.api.auth import AUTH_RESPONSES, require_role
from policy_engine.logs import get_logger
from policy_engine.models import ErrorBody
from policy_engine.policy.cache import CachedEvaluator
from policy_engine.policy.reloader import PolicyReloader, ReloadOutcome
from policy_engine.policy.shadow import ShadowEvaluator

log = get_logger("policy_engine.api.policies")

router = APIRouter(prefix="/policies", tags=["policies"], responses=AUTH_RESPONSES)
ADMIN = require_role("admin")
READER = require_role("auditor", "admin")


def _reloader(request: Request) -> PolicyReloader | None:
    reloader: PolicyReloader | None = getattr(request.app.state, "reloader", None)
    return reloader


def wants_explanation(request: Request) -> bool | JSONResponse:
    """``POST /decide?explain=true``: the ``explain`` query parameter (true/false, 1/0)."""
    value = request.query_params.get("explain")
    if value is None or value.lower() in ("false", "0"):
        return False
    if value.lower() in ("true", "1", ""):
        return True
    body = ErrorBody(
        error="invalid_request",
        message="query parameter explain must be true or false",
        details=[{"field": "explain", "problem": "must be true or false"}],
    )
    return JSONResponse(body.model_dump(), status_code=422)


def outcome_body(outcome: ReloadOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "revision": outcome.revision,
        "previous_revision": outcome.previous_revision,
        "candidate_revision": outcome.candidate_revision,
        "tests_run": outcome.tests_run,
        "errors": outcome.errors,
    }


@router.get("", summary="The active policy set")
async def active_policies(
    request: Request, _: Annotated[Principal, Depends(READER)]
) -> dict[str, Any]:
    engine = request.app.state.engine
    reloader = _reloader(request)
    last = reloader.last if reloader is not None else None
    shadow = engine.shadow
    evaluator = engine.evaluator
    cache = evaluator if isinstance(evaluator, CachedEvaluator) else None
    return {
        "revision": evaluator.revision,
        "backend": type(evaluator if cache is None else cache.inner).__name__,
        "result_cache": None
        if cache is None
        else {"entries": len(cache), "hits": cache.hits, "misses": cache.misses},
        "reload": "enabled" if reloader is not None else "disabled",
        "last_reload": outcome_body(last) if last is not None else None,
        "shadow_revision": shadow.revision if isinstance(shadow, ShadowEvaluator) else None,
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
    reloader = _reloader(request)
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


@router.get("/shadow", summary="Shadow-mode counters (PE_SHADOW_POLICIES_DIR)")
async def shadow_stats(request: Request, _: Annotated[Principal, Depends(ADMIN)]) -> dict[str, Any]:
    shadow = request.app.state.engine.shadow
    if not isinstance(shadow, ShadowEvaluator):
        return {"enabled": False}
    return {
        "enabled": True,
        "active_revision": request.app.state.engine.evaluator.revision,
        **shadow.stats(),
    }
