"""A LiteLLM proxy (litellm[proxy] from PyPI) with the guardrail class shipped in this
package, as examples/litellm/reroute-guardrail.yaml says; the tests add only LiteLLM's
``custom_auth`` hook (tests/litellm_custom_auth.py), for a key limited to the public model
group without LiteLLM's database. The class moves a call its model group may not receive
to an allowed group the key may use, and refuses it otherwise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.audit_support import sqlite_write_locked
from tests.conftest import GATEWAY_KEY, ROOT
from tests.litellm_proxy import (
    MASTER_KEY,
    NAME_AND_SSN,
    ON_PREM_MODEL,
    PUBLIC_MODEL,
    SSN,
    Stack,
    run_in_litellm,
    stack,
    tool_call_chat,
)

PUBLIC_ONLY_KEY = "sk-public-only-0123456789"  # tests/litellm_custom_auth.py


@pytest.fixture(scope="module")
def litellm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from stack(
        tmp_path_factory,
        "reroute-guardrail.yaml",
        beside=[ROOT / "tests" / "litellm_custom_auth.py"],
        custom_auth="litellm_custom_auth.user_api_key_auth",
        custom_auth_run_common_checks=True,
    )


def client(litellm: Stack, key: str = MASTER_KEY) -> openai.OpenAI:
    litellm.upstream.reset()
    return openai.OpenAI(base_url=litellm.url, api_key=key, max_retries=0, timeout=120)


@pytest.fixture()
def llm(litellm: Stack) -> Iterator[openai.OpenAI]:
    with client(litellm) as master:
        yield master


def ask(llm: openai.OpenAI, model: str, messages: list[Any]) -> str:
    answer = llm.chat.completions.create(model=model, messages=messages)
    return answer.choices[0].message.content or ""


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def refused(llm: openai.OpenAI, model: str, messages: list[Any]) -> str:
    with pytest.raises(openai.APIStatusError) as error:
        llm.chat.completions.create(model=model, messages=messages)
    assert error.value.status_code == 400
    return str(error.value)


def test_a_clean_prompt_is_answered_by_the_public_model(llm: openai.OpenAI, litellm: Stack) -> None:
    text = "Summarize our refund policy in two lines."
    assert ask(llm, "deepseek-v4-flash", user(text)) == f"echo: {text}"
    assert [r.model for r in litellm.upstream.received()] == [PUBLIC_MODEL]


def test_a_name_and_an_ssn_are_moved_to_the_on_prem_model(
    llm: openai.OpenAI, litellm: Stack
) -> None:
    raw = llm.chat.completions.with_raw_response.create(
        model="deepseek-v4-flash", messages=user(NAME_AND_SSN)
    )
    assert raw.parse().choices[0].message.content == f"echo: {NAME_AND_SSN}"
    assert raw.headers["x-litellm-model-group"] == "onprem-qwen3-32b"
    assert [r.model for r in litellm.upstream.received()] == [ON_PREM_MODEL]


def test_a_secret_only_in_tool_call_arguments_is_moved_to_the_on_prem_model(
    llm: openai.OpenAI, litellm: Stack
) -> None:
    chat = tool_call_chat()
    ask(llm, "deepseek-v4-flash", chat)
    assert [r.model for r in litellm.upstream.received()] == [ON_PREM_MODEL]


def test_an_ssn_in_a_tool_description_is_moved_to_the_on_prem_model(
    llm: openai.OpenAI, litellm: Stack
) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "description": NAME_AND_SSN}}
    llm.chat.completions.create(
        model="deepseek-v4-flash", messages=user("Run the lookup."), tools=[tool]
    )
    assert [r.model for r in litellm.upstream.received()] == [ON_PREM_MODEL]


def test_a_key_that_may_not_use_an_allowed_group_is_refused(litellm: Stack) -> None:
    with client(litellm, PUBLIC_ONLY_KEY) as limited:
        text = "Name three colours."
        assert ask(limited, "deepseek-v4-flash", user(text)) == f"echo: {text}"
        litellm.upstream.reset()
        message = refused(limited, "deepseek-v4-flash", user(NAME_AND_SSN))
    assert "policy-engine decision" in message
    assert "isolation.sensitive_pii" in message
    assert "allowed endpoints: onprem-qwen3-32b" in message
    assert "none of them a model group this key may use" in message
    assert SSN not in message
    assert litellm.upstream.received() == []


def test_a_model_group_that_is_no_catalog_endpoint_is_refused_not_moved(
    llm: openai.OpenAI, litellm: Stack
) -> None:
    message = refused(llm, "gpt-4o-mini", user("Name three colours."))
    assert "model group 'gpt-4o-mini' is no catalog endpoint" in message
    assert "model_map" in message
    assert litellm.upstream.received() == []


def test_with_the_engine_stopped_calls_are_refused_not_passed(
    llm: openai.OpenAI, litellm: Stack
) -> None:
    litellm.engine.stop()
    try:
        message = refused(llm, "deepseek-v4-flash", user("Name three colours."))
        assert "policy-engine could not be reached" in message
        assert litellm.upstream.received() == []
    finally:
        litellm.restart_engine()
    text = "Name three colours."
    assert ask(llm, "deepseek-v4-flash", user(text)) == f"echo: {text}"


#: The class on its own in LiteLLM's virtualenv: its hook on one call for each config
#: given (engine URL, key, unreachable_fallback), in one interpreter (LiteLLM imports slowly).
HOOK = """
import asyncio, json, sys
from litellm.proxy._types import UserAPIKeyAuth
from policy_engine.integrations.litellm import PolicyEngineGuardrail

async def run(api_base, api_key, fallback):
    guardrail = PolicyEngineGuardrail(
        guardrail_name="policy-engine-reroute", event_hook="pre_call", default_on=True,
        api_base=api_base, api_key=api_key, unreachable_fallback=fallback, timeout=60,
    )
    data = {"model": "deepseek-v4-flash", "messages": [{"role": "user", "content": "Hello."}]}
    try:
        out = await guardrail.async_pre_call_hook(UserAPIKeyAuth(), None, data, "acompletion")
        return {"passed": True, "model": out["model"]}
    except Exception as exc:
        return {"passed": False, "type": type(exc).__name__, "message": str(exc),
                "blocked_content": getattr(exc, "blocked_content", None)}

configs = json.loads(sys.argv[1])
print(json.dumps({"results": [asyncio.run(run(*config)) for config in configs]}))
"""


def test_fail_open_lets_a_call_through_only_when_the_engine_is_unreachable(
    litellm: Stack,
) -> None:
    nowhere = "http://127.0.0.1:9"  # the discard port: nothing listens there
    configs = [
        [nowhere, GATEWAY_KEY, "fail_closed"],
        [nowhere, GATEWAY_KEY, "fail_open"],
        # An engine that is up but cannot audit gives no decision: refused even so.
        [litellm.engine.url, GATEWAY_KEY, "fail_open"],
        # A key the engine does not know is a refusal too, not an unreachable engine.
        [litellm.engine.url, "not-a-key-0000000000", "fail_open"],
    ]
    with sqlite_write_locked(litellm.engine.db_path):
        closed, opened, unaudited, wrong_key = run_in_litellm(HOOK, json.dumps(configs))["results"]
    assert closed["passed"] is False
    assert closed["type"] == "GuardrailRaisedException"
    assert closed["blocked_content"] is False  # not a verdict on the content
    assert "could not be reached" in closed["message"]
    assert opened == {"passed": True, "model": "deepseek-v4-flash"}
    assert unaudited["passed"] is False
    assert "audit_unavailable" in unaudited["message"]
    assert wrong_key["passed"] is False
    assert "invalid_key" in wrong_key["message"]
