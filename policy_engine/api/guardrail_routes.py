"""LiteLLM's Generic Guardrail API: ``POST /beta/litellm_basic_guardrail_api`` (gateway
key, as ``Authorization: Bearer KEY`` or ``x-api-key: KEY``).

A stock LiteLLM proxy (``guardrail: generic_guardrail_api``, ``api_base`` this service)
posts each call here before it goes to a model (``input_type: request``), and after, with
the model's answer (``response``). The call is decided like ``POST /decide``
(:mod:`.litellm_guardrail` translates), audited with LiteLLM's call and trace ids, and
answered ``NONE`` when the model group's catalog endpoint may receive the content, else
``BLOCKED`` with the reason.

A decision that cannot be audited is answered 200 ``BLOCKED``, not 503: LiteLLM's
``unreachable_fallback: fail_open`` lets a call through on 502, 503 and 504, and "the
engine is up but cannot audit" must never become a pass. Bad input gets a 4xx as on every
route (LiteLLM then fails the call, unless told ``fail_on_error: false``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from policy_engine.api.auth import GatewayApiKeyCaller
from policy_engine.api.body import read_json_object
from policy_engine.api.errors import BODY_ERROR_RESPONSES
from policy_engine.api.litellm_guardrail import (
    GuardrailAnswer,
    GuardrailCall,
    answer_of,
    decide_body_of,
    not_recorded_answer,
    parse_call,
)
from policy_engine.api.service import service_of
from policy_engine.errors import AuditError
from policy_engine.logs import get_logger

router = APIRouter(tags=["litellm"])

log = get_logger("policy_engine.api")

#: This route never answers 503: a decision that cannot be recorded is a 200 BLOCKED.
_ERROR_RESPONSES = {status: r for status, r in BODY_ERROR_RESPONSES.items() if status != 503}


def _request_body() -> dict[str, Any]:
    schema = GuardrailCall.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/beta/litellm_basic_guardrail_api",
    response_model=GuardrailAnswer,
    response_model_exclude_none=True,
    responses=_ERROR_RESPONSES,
    openapi_extra=_request_body(),
    summary="LiteLLM's Generic Guardrail API: may this call go to its model group?",
)
async def litellm_guardrail(request: Request, principal: GatewayApiKeyCaller) -> JSONResponse:
    service = service_of(request)
    call = parse_call(await read_json_object(request, service.max_body_bytes))
    catalog = service.engine.catalog
    body, endpoint = decide_body_of(
        call, service.litellm_model_map, lambda endpoint: catalog.by_id(endpoint) is not None
    )
    if body is None:
        log.info("litellm_guardrail_nothing_to_check", input_type=call.input_type)
        return _answer(GuardrailAnswer(action="NONE"))
    try:
        decision = await run_in_threadpool(
            service.engine.decide, body, caller=principal.key_id, correlation=call.correlation
        )
    except AuditError as exc:
        log.error("litellm_guardrail_not_recorded", error_type=type(exc).__name__)
        return _answer(not_recorded_answer())
    in_catalog = endpoint is not None and catalog.by_id(endpoint) is not None
    answer = answer_of(decision, call, endpoint, in_catalog=in_catalog)
    log.info(
        "litellm_guardrail",
        input_type=call.input_type,
        action=answer.action,
        decision_id=decision.decision_id,
    )
    return _answer(answer)


def _answer(answer: GuardrailAnswer) -> JSONResponse:
    return JSONResponse(answer.model_dump(exclude_none=True))
