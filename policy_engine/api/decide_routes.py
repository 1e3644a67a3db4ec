"""The gateways' route: ``POST /decide`` (gateway key).

The body is read within the service's limits (:mod:`.body`), then the engine takes it in
(:mod:`policy_engine.intake`: shape limits, validation, strict mode), decides and audits.
A decision that could not be audited is never returned: the client gets 503.
``?explain=true`` adds an explanation of the decision for people; any other query
parameter is refused (422, like an unknown body field).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from policy_engine.api.auth import GatewayCaller
from policy_engine.api.body import read_json_object
from policy_engine.api.errors import BODY_ERROR_RESPONSES
from policy_engine.api.openapi import (
    DECIDE_QUERY_PARAMETERS,
    ExplainedDecision,
    decide_request_body,
)
from policy_engine.api.service import service_of
from policy_engine.errors import RequestError
from policy_engine.explain import explain as explain_decision

router = APIRouter(tags=["decide"])


def check_query(request: Request) -> None:
    """Refuse query parameters ``POST /decide`` does not know, and repeated ones, with the
    same ``details`` as an unknown body field."""
    known = ", ".join(DECIDE_QUERY_PARAMETERS)
    details = []
    for name in dict.fromkeys(request.query_params.keys()):
        if name not in DECIDE_QUERY_PARAMETERS:
            problem = f"unknown query parameter; the query parameters here are {known}"
        elif len(request.query_params.getlist(name)) > 1:
            problem = "given more than once"
        else:
            continue
        details.append({"field": f"query.{name}", "problem": problem})
    if details:
        first = details[0]
        raise RequestError(f"{first['field']}: {first['problem']}", details)


def wants_explanation(request: Request) -> bool:
    """``POST /decide?explain=true``: the ``explain`` query parameter (true/false, 1/0)."""
    check_query(request)
    value = request.query_params.get("explain")
    if value is None or value.lower() in ("false", "0"):
        return False
    if value.lower() in ("true", "1", ""):
        return True
    raise RequestError(
        "query.explain: must be true or false",
        [{"field": "query.explain", "problem": "must be true or false"}],
    )


@router.post(
    "/decide",
    response_model=ExplainedDecision,
    responses=BODY_ERROR_RESPONSES,
    openapi_extra=decide_request_body(),
    summary="Decide which endpoints may receive this content",
)
async def decide(request: Request, principal: GatewayCaller) -> JSONResponse:
    service = service_of(request)
    explain = wants_explanation(request)
    body = await read_json_object(request, service.max_body_bytes)
    engine = service.engine
    decision = await run_in_threadpool(engine.decide, body, caller=principal.key_id)
    answer = decision.model_dump(mode="json")
    if explain:
        answer["explanation"] = explain_decision(decision, engine.catalog).model_dump()
    return JSONResponse(answer)
