"""The guardrail class where it runs: LiteLLM's own virtualenv, with this package installed
without its dependencies (as on a gateway host), in a fresh interpreter (one for the
module: LiteLLM imports slowly)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.litellm_proxy import run_in_litellm

#: Imports the class first (and notes what that loaded), then turns CALLS into bodies.
PROBE = """
import importlib.util, json, sys
import policy_engine.integrations.litellm as integration
heavy = ["fastapi", "starlette", "uvicorn", "presidio_analyzer", "spacy", "regopy",
         "structlog", "policy_engine.api", "policy_engine.engine", "policy_engine.detection",
         "policy_engine.policy", "policy_engine.audit"]
state = {
    "loaded": [name for name in heavy if name in sys.modules],
    "installed": [name for name in ("fastapi", "presidio_analyzer", "spacy", "regopy")
                  if importlib.util.find_spec(name) is not None],
    "base": [cls.__name__ for cls in integration.PolicyEngineGuardrail.__mro__],
}
params = {"tenant": "acme", "model_map": {"public-chat": "deepseek-v4-flash"}}
key = {"user_api_key_team_alias": "support-bot", "user_api_key_user_id": "u-1"}
state["bodies"] = {
    name: integration.decide_body(data, params, key, params["model_map"])
    for name, data in json.loads(sys.argv[1]).items()
}
print(json.dumps(state))
"""

CALLS: dict[str, Any] = {
    "chat": {
        "model": "public-chat",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    },
    "embeddings": {"model": "onprem-qwen3-32b", "input": ["first", "second"]},
    "responses": {
        "model": "public-chat",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"type": "function_call_output", "call_id": "c1", "output": "result"},
        ],
    },
    "completion": {"model": "public-chat", "prompt": "Once upon a time"},
    "nothing": {"model": "public-chat", "messages": [{"role": "user", "content": " "}]},
    "tokens": {"model": "public-chat", "input": [[1, 2, 3]]},
}


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    return run_in_litellm(PROBE, json.dumps(CALLS))


def test_the_class_imports_without_the_engine_s_dependencies(probe: dict[str, Any]) -> None:
    state = probe
    assert state["loaded"] == []
    # LiteLLM's proxy brings FastAPI (so not loading it means something); the engine's
    # detection and policy libraries are not there at all.
    assert state["installed"] == ["fastapi"]
    assert "CustomGuardrail" in state["base"]


def test_every_kind_of_call_becomes_a_decide_body(probe: dict[str, Any]) -> None:
    bodies = probe["bodies"]
    context = {
        "tenant": "acme",
        "application": "support-bot",
        "user": "u-1",
        "requested_endpoint": "deepseek-v4-flash",
    }
    assert bodies["chat"] == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "context": context,
    }
    assert bodies["embeddings"]["messages"] == [
        {"role": "user", "content": "first"},
        {"role": "user", "content": "second"},
    ]
    assert bodies["embeddings"]["context"]["requested_endpoint"] == "onprem-qwen3-32b"
    responses = bodies["responses"]["messages"]
    assert responses[0]["content"] == [{"type": "input_text", "text": "Hi"}]
    assert json.loads(responses[1]["content"])["output"] == "result"
    assert bodies["completion"]["messages"] == [{"role": "user", "content": "Once upon a time"}]
    assert bodies["nothing"] is None
    assert bodies["tokens"] is None
