"""LiteLLM's Generic Guardrail API in this package's terms: its request as a decision
request, and a decision as its answer. Pure functions; the route is
:mod:`policy_engine.api.guardrail_routes`.

LiteLLM (``guardrail: generic_guardrail_api``) sends, among fields that grow between its
versions (unknown ones are ignored here): ``input_type`` (``request`` or ``response``),
``litellm_call_id``, ``litellm_trace_id``, ``structured_messages`` (OpenAI chat rows with
their ``tool_calls``), ``texts`` (message texts only), ``tool_calls``, ``request_data``
(the LiteLLM key's ``user_api_key_*`` fields), ``additional_provider_specific_params``
(the guardrail's static parameters) and ``model`` (the model group asked for). It reads
back ``action``: only ``BLOCKED`` blocks, with ``blocked_reason`` shown to the client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from policy_engine.chat import carries_content, fields_text, message_strings
from policy_engine.errors import RequestError
from policy_engine.integrations.litellm_context import (
    ParamError,
    caller_context,
    catalog_id,
    model_map_param,
)
from policy_engine.models import Decision
from policy_engine.validation import describe_validation_error, validation_details

__all__ = [
    "BLOCKED",
    "NONE",
    "GuardrailAnswer",
    "GuardrailCall",
    "answer_of",
    "decide_body_of",
    "not_recorded_answer",
    "parse_call",
]

NONE: Final = "NONE"
BLOCKED: Final = "BLOCKED"

#: Where the static parameters come from, as errors name them.
PARAMS = "additional_provider_specific_params"

#: A LiteLLM call or trace id: an id, never content (the audit record keeps it).
CallId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]


class GuardrailCall(BaseModel):
    """The fields of LiteLLM's Generic Guardrail API request this service reads; any
    other field is ignored (LiteLLM adds fields between versions). What reaches the model
    (``structured_messages``, ``texts``, ``tool_calls``, ``tools``, ``images``) is all
    scanned or, where it cannot be (an image's data), listed as unscanned."""

    model_config = ConfigDict(extra="ignore")

    input_type: Literal["request", "response"]
    litellm_call_id: CallId | None = None
    litellm_trace_id: CallId | None = None
    structured_messages: list[dict[str, Any]] | None = None
    texts: list[str] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    #: The tools the model is offered (their descriptions and schemas reach it).
    tools: list[Any] | None = None
    #: Images of the call: URLs (``data:`` URLs are the image itself).
    images: list[Any] | None = None
    request_data: dict[str, Any] | None = None
    additional_provider_specific_params: dict[str, Any] | None = None
    model: str | None = Field(default=None, min_length=1, max_length=200)

    @property
    def correlation(self) -> dict[str, str]:
        """The ids the audit record ties the decision to."""
        ids = {"litellm_call_id": self.litellm_call_id, "litellm_trace_id": self.litellm_trace_id}
        return {name: value for name, value in ids.items() if value}


class GuardrailAnswer(BaseModel):
    """What LiteLLM reads back: ``action`` (``NONE`` lets the call go on, ``BLOCKED``
    stops it with ``blocked_reason``), and the decision's id when there is one."""

    action: Literal["NONE", "BLOCKED"]
    blocked_reason: str | None = None
    decision_id: str | None = None


def parse_call(body: Mapping[str, Any]) -> GuardrailCall:
    """``body`` as a :class:`GuardrailCall` (:class:`RequestError` naming the fields at
    fault when it is not one)."""
    try:
        return GuardrailCall.model_validate(body)
    except ValidationError as exc:
        details = validation_details(exc, GuardrailCall)
        raise RequestError(describe_validation_error(details), details) from None


def _param_error(exc: ParamError) -> RequestError:
    return RequestError(str(exc), [{"field": exc.field, "problem": exc.problem}])


def model_map_of(call: GuardrailCall, service_map: Mapping[str, str]) -> Mapping[str, str]:
    """The model group -> catalog id map for ``call``: the service's
    (``PE_LITELLM_MODEL_MAP``) when set; else the guardrail's ``model_map`` parameter.

    A map in the parameters is not used when the service has one: LiteLLM merges a
    caller's per-request guardrail parameters into the same object, and a caller must not
    be able to map a public model group onto an on-prem endpoint.
    """
    if service_map:
        return service_map
    try:
        return model_map_param(call.additional_provider_specific_params or {}, where=PARAMS)
    except ParamError as exc:
        raise _param_error(exc) from None


def _messages_of(call: GuardrailCall) -> list[dict[str, Any]]:
    """The call's chat: ``structured_messages``, then each text of ``texts`` that none of
    them holds (all of them without rows) as a message of its own, then the tool calls of
    ``tool_calls`` none of them holds (by id) as an assistant message: every text LiteLLM
    sent is scanned, tool-call arguments included; then the ``images`` as one message of
    image parts (a URL is scanned, the image is listed as unscanned) and the ``tools`` as
    one message of ``tools: …`` text."""
    messages = [dict(row) for row in call.structured_messages or []]
    known_texts = {text for row in messages for text in message_strings(row)}
    known_calls: set[str] = set()
    for row in messages:
        calls = row.get("tool_calls")
        for tool_call in calls if isinstance(calls, list) else []:
            if isinstance(tool_call, dict) and isinstance(tool_call.get("id"), str):
                known_calls.add(tool_call["id"])
    role = "assistant" if call.input_type == "response" else "user"
    for text in call.texts or []:
        if text.strip() and text not in known_texts:
            messages.append({"role": role, "content": text})
            known_texts.add(text)
    extra_calls = [c for c in call.tool_calls or [] if c.get("id") not in known_calls]
    if extra_calls:
        messages.append({"role": "assistant", "content": None, "tool_calls": extra_calls})
    if call.images:
        parts = [_image_part(image) for image in call.images]
        messages.append({"role": role, "content": parts})
    if call.tools:
        messages.append({"role": "user", "content": fields_text({"tools": call.tools})})
    return messages


def _image_part(image: Any) -> dict[str, Any]:
    """An image of ``images`` as a chat content part: a URL as an ``image_url`` part, a
    part as it is."""
    if isinstance(image, dict):
        return image
    return {"type": "image_url", "image_url": {"url": image}}


def decide_body_of(
    call: GuardrailCall, service_map: Mapping[str, str], is_endpoint: Callable[[str], bool]
) -> tuple[dict[str, Any] | None, str | None]:
    """The ``POST /decide`` body for ``call`` and the catalog endpoint it is checked
    against; the body is None when the call holds no text at all (nothing to check: only
    images, say, or an empty answer).

    A request is checked against its model group's endpoint (a group that is no catalog
    endpoint, or none, blocks). An answer (``input_type: response``) names what the
    upstream answered as, not the model group (LiteLLM 1.108): it is checked against that
    endpoint only when ``is_endpoint`` knows it, and otherwise decided without one.
    """
    params = call.additional_provider_specific_params or {}
    try:
        context: dict[str, Any] = caller_context(call.request_data or {}, params, where=PARAMS)
    except ParamError as exc:
        raise _param_error(exc) from None
    endpoint = catalog_id(call.model, model_map_of(call, service_map)) if call.model else None
    if call.input_type == "response" and endpoint is not None and not is_endpoint(endpoint):
        endpoint = None
    if endpoint is not None:
        context["requested_endpoint"] = endpoint
    messages = _messages_of(call)
    if not any(carries_content(row) for row in messages):
        return None, endpoint
    return {"messages": messages, "context": context}, endpoint


def answer_of(
    decision: Decision, call: GuardrailCall, endpoint: str | None, *, in_catalog: bool
) -> GuardrailAnswer:
    """``NONE`` when the endpoint checked may receive the content, and for an answer
    (``input_type: response``) checked against none; else ``BLOCKED`` with a reason naming
    the decision, the rules and the endpoints allowed (never a value). ``in_catalog``:
    whether ``endpoint`` is a catalog endpoint."""
    if decision.requested_endpoint_allowed or (endpoint is None and call.input_type == "response"):
        return GuardrailAnswer(action=NONE, decision_id=decision.decision_id)
    return GuardrailAnswer(
        action=BLOCKED,
        blocked_reason=blocked_reason(decision, call, endpoint, in_catalog=in_catalog),
        decision_id=decision.decision_id,
    )


def blocked_reason(
    decision: Decision, call: GuardrailCall, endpoint: str | None, *, in_catalog: bool
) -> str:
    """Why the call is blocked, for the client: decision id, model group, rules, allowed
    endpoints."""
    allowed = ", ".join(decision.allowed_endpoints) or "none"
    shown = f"'{call.model}'" if endpoint == call.model else f"'{call.model}' ({endpoint})"
    if call.model is None or endpoint is None:
        head = "the call names no model group, so no endpoint could be checked"
    elif call.input_type == "response":
        head = f"the answer holds content that {shown} may not receive"
    else:
        head = f"model group {shown} may not receive this content"
    why = sorted({reason.rule for reason in decision.reasons})
    excluded = next((e for e in decision.excluded_endpoints if e.id == endpoint), None)
    if endpoint is not None and not in_catalog:
        why.append(
            f"'{endpoint}' is not a catalog endpoint (map model groups to catalog ids with "
            f"PE_LITELLM_MODEL_MAP)"
        )
    elif excluded is not None:
        why = [*excluded.reasons, *(rule for rule in why if rule not in excluded.reasons)]
    rules = f" ({'; '.join(why)})" if why else ""
    return (
        f"policy-engine decision {decision.decision_id}: {head}{rules}; "
        f"allowed endpoints: {allowed}"
    )


def not_recorded_answer() -> GuardrailAnswer:
    """The answer when the decision could not be recorded: blocked (no record, no
    decision), and as a 200, so that LiteLLM's ``unreachable_fallback: fail_open``, which
    lets a call through on a 502, 503 or 504, cannot turn it into a pass."""
    return GuardrailAnswer(
        action=BLOCKED,
        blocked_reason=(
            "policy-engine could not record a decision in its audit log, so it gives none "
            "and the call is blocked; retry later"
        ),
    )
