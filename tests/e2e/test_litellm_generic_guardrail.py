"""A stock LiteLLM proxy (litellm[proxy] from PyPI) with its Generic Guardrail API pointed
at a real policy-engine service, exactly as examples/litellm/generic-guardrail.yaml says:
two model groups named after catalog ids (public and on-prem) in front of the fake
upstream, and the real openai client in front of LiteLLM."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import AUDITOR_KEY, bearer
from tests.litellm_proxy import (
    AWS_KEY,
    MASTER_KEY,
    NAME_AND_SSN,
    ON_PREM_MODEL,
    PUBLIC_MODEL,
    SSN,
    Stack,
    stack,
    tool_call_chat,
)


@pytest.fixture(scope="module")
def litellm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from stack(tmp_path_factory, "generic-guardrail.yaml")


@pytest.fixture()
def llm(litellm: Stack) -> Iterator[openai.OpenAI]:
    litellm.upstream.reset()
    with openai.OpenAI(
        base_url=litellm.url, api_key=MASTER_KEY, max_retries=0, timeout=120
    ) as client:
        yield client


def ask(llm: openai.OpenAI, model: str, text: str) -> str:
    answer = llm.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    return answer.choices[0].message.content or ""


def blocked(llm: openai.OpenAI, model: str, messages: list[Any]) -> str:
    """The error LiteLLM answers a blocked call with (its message)."""
    with pytest.raises(openai.APIStatusError) as refused:
        llm.chat.completions.create(model=model, messages=messages)
    assert 400 <= refused.value.status_code < 600
    return str(refused.value)


def test_a_clean_prompt_is_answered_by_the_public_model(llm: openai.OpenAI, litellm: Stack) -> None:
    text = "Summarize our refund policy in two lines."
    assert ask(llm, "deepseek-v4-flash", text) == f"echo: {text}"
    assert [r.model for r in litellm.upstream.received()] == [PUBLIC_MODEL]


def test_a_name_and_an_ssn_never_reach_the_public_model(llm: openai.OpenAI, litellm: Stack) -> None:
    message = blocked(llm, "deepseek-v4-flash", [{"role": "user", "content": NAME_AND_SSN}])
    assert "policy-engine decision" in message
    assert "isolation.sensitive_pii" in message
    assert "allowed endpoints: onprem-qwen3-32b" in message
    assert SSN not in message
    assert litellm.upstream.received() == []


def test_the_same_prompt_may_go_to_the_on_prem_model(llm: openai.OpenAI, litellm: Stack) -> None:
    assert ask(llm, "onprem-qwen3-32b", NAME_AND_SSN) == f"echo: {NAME_AND_SSN}"
    assert [r.model for r in litellm.upstream.received()] == [ON_PREM_MODEL]


def test_a_secret_only_in_tool_call_arguments_never_reaches_the_public_model(
    llm: openai.OpenAI, litellm: Stack
) -> None:
    chat = tool_call_chat()
    message = blocked(llm, "deepseek-v4-flash", chat)
    assert "isolation.secrets" in message
    assert AWS_KEY not in message
    assert litellm.upstream.received() == []


def test_the_audit_record_carries_litellm_s_call_id(llm: openai.OpenAI, litellm: Stack) -> None:
    raw = llm.chat.completions.with_raw_response.create(
        model="deepseek-v4-flash", messages=[{"role": "user", "content": "Name three colours."}]
    )
    call_id = raw.headers["x-litellm-call-id"]
    page = httpx.get(
        litellm.engine.url + "/audit/decisions",
        params={"limit": 1000},
        headers=bearer(AUDITOR_KEY),
        timeout=30,
    )
    assert page.status_code == 200, page.text
    records = [
        r
        for r in page.json()["decisions"]
        if (r.get("correlation") or {}).get("litellm_call_id") == call_id
    ]
    assert len(records) == 1
    assert records[0]["context"]["requested_endpoint"] == "deepseek-v4-flash"
    assert records[0]["caller"].startswith("key-")


def test_with_the_engine_stopped_calls_are_refused_not_passed(
    llm: openai.OpenAI, litellm: Stack
) -> None:
    litellm.engine.stop()
    try:
        blocked(llm, "deepseek-v4-flash", [{"role": "user", "content": "Name three colours."}])
        assert litellm.upstream.received() == []
    finally:
        litellm.restart_engine()
    assert ask(llm, "deepseek-v4-flash", "Name three colours.") == "echo: Name three colours."
