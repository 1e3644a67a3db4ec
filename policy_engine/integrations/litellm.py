"""A LiteLLM guardrail class that moves a call to a model group the engine allows, instead
of blocking it.

LiteLLM's guardrail answers cannot change the model, and its fallbacks never retry a
guardrail's block; a guardrail class's ``async_pre_call_hook`` runs before LiteLLM picks a
deployment and may set ``data["model"]``. This one asks the policy-engine service
(``POST /decide``) and then

* lets the call through when its model group's catalog endpoint is allowed;
* else moves it to the first allowed endpoint (cheapest first) that is a model group on
  this proxy and that the caller's key may use (LiteLLM checked the key's access to the
  group asked for before the hook, not to the new one; this class checks it with
  LiteLLM's own check);
* else refuses it, naming the decision.

An engine that cannot be reached (connection error, timeout, 502, 504, a 503 that is not
the engine's own) refuses the call; ``unreachable_fallback: fail_open`` lets it through
instead. A decision the engine could not audit (503 ``audit_unavailable``) and any other
error always refuse.

LiteLLM config (``guardrails:`` at the top level of its config)::

    guardrails:
      - guardrail_name: policy-engine-reroute
        litellm_params:
          guardrail: policy_engine.integrations.litellm.PolicyEngineGuardrail
          mode: pre_call
          default_on: true
          api_base: http://127.0.0.1:8080       # the policy-engine service
          api_key: os.environ/POLICY_ENGINE_KEY  # a gateway key
          timeout: 5
          additional_provider_specific_params:   # optional
            model_map: {public-chat: deepseek-v4-flash}
            tenant: acme

Imports LiteLLM, httpx, pydantic (LiteLLM's) and light parts of this package only (see
:mod:`policy_engine.integrations`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx
from litellm._logging import verbose_proxy_logger
from litellm.exceptions import GuardrailRaisedException
from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.types.guardrails import GuardrailEventHooks

from policy_engine.chat import carries_content, fields_text
from policy_engine.integrations.litellm_context import (
    caller_context,
    catalog_id,
    model_groups_for,
    model_map_param,
)

__all__ = ["DEFAULT_TIMEOUT", "PolicyEngineGuardrail"]

#: Seconds one ``/decide`` call may take when the config gives no ``timeout``.
DEFAULT_TIMEOUT = 10.0
#: What the guardrail's config calls its static parameters, as errors name them.
PARAMS = "additional_provider_specific_params"
#: Answers that mean the engine was not reached (a proxy or load balancer in front of it).
# How the engine names a requested endpoint the catalog does not hold (the file runs
# inside LiteLLM's process without the engine's package, so it is repeated here).
_NOT_IN_CATALOG = "not in the catalog"

_UNREACHABLE_STATUSES = frozenset({502, 503, 504})
#: A call id the service may take as its request id.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: LiteLLM's key attributes, by the names the Generic Guardrail API gives them.
_KEY_METADATA = {
    "user_api_key_org_id": "org_id",
    "user_api_key_team_alias": "team_alias",
    "user_api_key_team_id": "team_id",
    "user_api_key_alias": "key_alias",
    "user_api_key_end_user_id": "end_user_id",
    "user_api_key_user_id": "user_id",
}


class EngineUnreachable(Exception):
    """The engine could not be asked (``unreachable_fallback`` decides what follows)."""


class EngineRefused(Exception):
    """The engine answered without a decision (the call is refused whatever the fallback)."""


class PolicyEngineGuardrail(CustomGuardrail):  # type: ignore[misc]  # LiteLLM is untyped here
    """``guardrail: policy_engine.integrations.litellm.PolicyEngineGuardrail``."""

    def __init__(
        self,
        api_base: str | None = None,
        api_key: str | None = None,
        unreachable_fallback: str = "fail_closed",
        additional_provider_specific_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not api_base:
            raise ValueError(
                "policy-engine guardrail: set api_base to the policy-engine service's URL"
            )
        if unreachable_fallback not in ("fail_closed", "fail_open"):
            raise ValueError(
                "policy-engine guardrail: unreachable_fallback must be fail_closed or fail_open"
            )
        params = dict(additional_provider_specific_params or {})
        self.model_map = model_map_param(params, where=PARAMS)
        caller_context({}, params, where=PARAMS)  # a bad parameter stops LiteLLM's start-up
        self.params = params
        self.decide_url = api_base.rstrip("/") + "/decide"
        self.api_key = api_key
        self.fail_open = unreachable_fallback == "fail_open"
        kwargs.setdefault("supported_event_hooks", [GuardrailEventHooks.pre_call])
        super().__init__(**kwargs)
        self._client: httpx.AsyncClient | None = None

    # ------------------------------------------------------------------ the hook

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        body = decide_body(data, self.params, key_metadata(user_api_key_dict), self.model_map)
        if body is None:
            verbose_proxy_logger.debug("policy-engine guardrail: nothing to check")
            return data
        try:
            decision = await self._decide(body, data.get("litellm_call_id"))
        except EngineUnreachable as exc:
            if self.fail_open:
                verbose_proxy_logger.critical(
                    "policy-engine guardrail: engine unreachable (%s); the call goes on "
                    "unchecked (unreachable_fallback: fail_open)",
                    exc,
                )
                return data
            raise self._refusal(
                f"policy-engine could not be reached ({exc}), so the call is refused",
                decided=False,
            ) from None
        except EngineRefused as exc:
            raise self._refusal(f"policy-engine gave no decision: {exc}", decided=False) from None
        decision_id = decision.get("decision_id")
        if decision.get("requested_endpoint_allowed") is True:
            return data
        asked = data.get("model")
        allowed = [e for e in decision.get("allowed_endpoints") or [] if isinstance(e, str)]
        if isinstance(asked, str) and _not_in_catalog(catalog_id(asked, self.model_map), decision):
            raise self._refusal(
                f"policy-engine decision {decision_id}: model group '{asked}' is no catalog "
                f"endpoint; map it in the guardrail's {PARAMS}.model_map",
                decided=True,
            )
        target = await self._reroute_target(allowed, user_api_key_dict)
        if target is not None:
            verbose_proxy_logger.info(
                "policy-engine guardrail: decision %s moves the call from %s to %s",
                decision_id,
                asked,
                target,
            )
            data["model"] = target
            return data
        rules = sorted({r.get("rule", "?") for r in decision.get("reasons") or []})
        where = (
            f"allowed endpoints: {', '.join(allowed)}, none of them a model group this key may use"
            if allowed
            else "no endpoint is allowed"
        )
        raise self._refusal(
            f"policy-engine decision {decision_id}: model group '{asked}' may not receive this "
            f"content (rules: {', '.join(rules) or 'none'}); {where}",
            decided=True,
        )

    # ------------------------------------------------------------------ steps

    async def _decide(self, body: dict[str, Any], call_id: object) -> dict[str, Any]:
        headers = {"content-type": "application/json"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        if isinstance(call_id, str) and _REQUEST_ID.match(call_id):
            headers["x-request-id"] = call_id
        if self._client is None:
            self._client = httpx.AsyncClient()
        timeout = self.timeout if self.timeout else DEFAULT_TIMEOUT
        try:
            response = await self._client.post(
                self.decide_url,
                content=json.dumps(body, default=str),
                headers=headers,
                timeout=timeout,
            )
        except httpx.TimeoutException:
            raise EngineUnreachable(f"no answer within {timeout} s") from None
        except httpx.HTTPError as exc:
            raise EngineUnreachable(type(exc).__name__) from None
        answer = _json_object(response)
        if response.status_code == 200 and "decision_id" in answer:
            return answer
        error = answer.get("error")
        if response.status_code in _UNREACHABLE_STATUSES and error != "audit_unavailable":
            raise EngineUnreachable(f"HTTP {response.status_code}")
        message = answer.get("message") or f"HTTP {response.status_code}"
        raise EngineRefused(f"{error or 'error'}: {message}")

    async def _reroute_target(self, allowed: list[str], user_api_key_dict: Any) -> str | None:
        """The first model group (cheapest endpoint first) on this proxy that stands for
        an allowed endpoint and that the caller's key may use."""
        from litellm.proxy import proxy_server  # the running proxy's router (loaded already)

        router = proxy_server.llm_router
        if router is None or not allowed:
            return None
        on_proxy = set(router.get_model_names())
        for endpoint in allowed:
            for group in model_groups_for(endpoint, self.model_map):
                if group in on_proxy and await _key_may_use(group, user_api_key_dict):
                    return group
        return None

    def _refusal(self, message: str, *, decided: bool) -> Exception:
        verbose_proxy_logger.warning("policy-engine guardrail refused a call: %s", message)
        return GuardrailRaisedException(  # type: ignore[no-any-return]
            guardrail_name=self.guardrail_name,
            message=message,
            should_wrap_with_default_message=False,
            blocked_content=decided,
        )


async def _key_may_use(group: str, user_api_key_dict: Any) -> bool:
    """Whether LiteLLM lets this key (and its team) call ``group``: its own check."""
    from litellm.proxy import proxy_server

    try:
        from litellm.proxy.auth.auth_checks import can_key_call_resolved_model
    except ImportError:  # another LiteLLM: no way to check, so no other group
        return False
    try:
        await can_key_call_resolved_model(
            model=group,
            llm_model_list=proxy_server.llm_model_list,
            valid_token=user_api_key_dict,
            llm_router=proxy_server.llm_router,
        )
    except Exception:  # LiteLLM refuses access by raising
        return False
    return True


def _not_in_catalog(endpoint: str, decision: Mapping[str, Any]) -> bool:
    """Whether ``endpoint`` is no catalog endpoint: the decision names it neither as allowed
    nor as excluded (every catalog endpoint is one or the other), or excludes it as not in
    the catalog (the engine names the requested endpoint so, since issue 20)."""
    if endpoint in (decision.get("allowed_endpoints") or []):
        return False
    for excluded in decision.get("excluded_endpoints") or []:
        if isinstance(excluded, dict) and excluded.get("id") == endpoint:
            reasons = excluded.get("reasons") or []
            return bool(reasons) and str(reasons[0]).startswith(_NOT_IN_CATALOG)
    return True


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def key_metadata(user_api_key_dict: Any) -> dict[str, object]:
    """LiteLLM's key as the ``user_api_key_*`` fields its Generic Guardrail API sends."""
    return {name: getattr(user_api_key_dict, attr, None) for name, attr in _KEY_METADATA.items()}


def decide_body(
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    key: Mapping[str, object],
    model_map: Mapping[str, str],
) -> dict[str, Any] | None:
    """The ``POST /decide`` body for a LiteLLM call's ``data``; None when it holds no
    text (nothing to check)."""
    messages = call_messages(data)
    if not any(carries_content(message) for message in messages):
        return None
    context: dict[str, Any] = caller_context(key, params, where=PARAMS)
    model = data.get("model")
    if isinstance(model, str) and model:
        context["requested_endpoint"] = catalog_id(model, model_map)
    return {"messages": messages, "context": context}


def call_messages(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The call's content as chat messages: ``messages`` (chat completions, Anthropic
    messages, with a top-level ``system``), ``input`` (embeddings, the Responses API) or
    ``prompt`` (completions, images); then the ``instructions``, ``tools``, ``functions``
    and ``response_format`` offered to the model."""
    out: list[dict[str, Any]] = []
    system = data.get("system")
    if isinstance(system, str | list) and system:
        out.append({"role": "system", "content": system})
    for field in ("messages", "input", "prompt"):
        value = data.get(field)
        if isinstance(value, str):
            value = [value]
        for item in value if isinstance(value, list) else []:
            if isinstance(item, str):
                if item.strip():
                    out.append({"role": "user", "content": item})
            elif isinstance(item, dict) and isinstance(item.get("role"), str):
                out.append(item)
            elif isinstance(item, dict):  # a Responses API item (a tool's output, say)
                out.append({"role": "user", "content": json.dumps(item, default=str)})
    offered = {field: data[field] for field in _BESIDE_MESSAGES if data.get(field)}
    if offered:  # reaches the model too: one more message, a line `field: value` each
        out.append({"role": "user", "content": fields_text(offered)})
    return out


#: Fields of a call beside its messages that reach the model (the rest of ``data`` is
#: LiteLLM's own: keys, metadata, headers).
_BESIDE_MESSAGES = ("instructions", "tools", "functions", "response_format")
