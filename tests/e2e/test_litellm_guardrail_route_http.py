"""POST /beta/litellm_basic_guardrail_api over HTTP, with the bodies LiteLLM's
``generic_guardrail_api`` sends (the real proxy in front of it: test_litellm_proxy.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.audit_support import sqlite_write_locked
from tests.conftest import AUDITOR_KEY, GATEWAY_KEY, Server, bearer, start_server
from tests.litellm_proxy import AWS_KEY, NAME_AND_SSN, SSN, tool_call_chat

ROUTE = "/beta/litellm_basic_guardrail_api"
CALL_ID = "0f8e4a52-6c1d-4f0e-9d7a-1b2c3d4e5f60"
TRACE_ID = "trace-7d1c9a"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("litellm-route"), PE_DETECTION_BACKEND="patterns")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(engine: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine.url, timeout=60, headers=bearer(GATEWAY_KEY)) as client:
        yield client


def call(text: str, model: str | None = "deepseek-v4-flash", **fields: Any) -> dict[str, Any]:
    """A body as LiteLLM 1.108 sends it for a one-message chat."""
    body: dict[str, Any] = {
        "input_type": "request",
        "litellm_call_id": CALL_ID,
        "litellm_trace_id": TRACE_ID,
        "structured_messages": [{"role": "user", "content": text}],
        "texts": [text],
        "request_data": {
            "user_api_key_hash": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
        },
        "additional_provider_specific_params": {},
        "litellm_version": "1.108.7",
        "model": model,
    }
    body.update(fields)
    return body


def audit_record(engine: Server, decision_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{engine.url}/audit/decisions/{decision_id}", headers=bearer(AUDITOR_KEY), timeout=30
    )
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def test_clean_call_passes_and_its_record_carries_litellm_ids(
    http: httpx.Client, engine: Server
) -> None:
    response = http.post(ROUTE, json=call("Summarize our refund policy in two lines."))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["action"] == "NONE"
    assert "blocked_reason" not in answer
    record = audit_record(engine, answer["decision_id"])
    assert record["correlation"] == {"litellm_call_id": CALL_ID, "litellm_trace_id": TRACE_ID}
    assert record["context"]["requested_endpoint"] == "deepseek-v4-flash"
    assert record["requested_endpoint_allowed"] is True


def test_name_and_ssn_are_blocked_for_the_public_model_with_a_reason(
    http: httpx.Client,
) -> None:
    answer = http.post(ROUTE, json=call(NAME_AND_SSN)).json()
    assert answer["action"] == "BLOCKED"
    reason = answer["blocked_reason"]
    assert answer["decision_id"] in reason
    assert "model group 'deepseek-v4-flash' may not receive this content" in reason
    assert "isolation.sensitive_pii" in reason
    assert "segment on_prem_only" in reason
    assert "allowed endpoints: onprem-qwen3-32b" in reason
    assert SSN not in reason and "Smith" not in reason


def test_the_same_prompt_may_go_to_the_on_prem_model(http: httpx.Client) -> None:
    answer = http.post(ROUTE, json=call(NAME_AND_SSN, model="onprem-qwen3-32b")).json()
    assert answer["action"] == "NONE"
    assert answer["decision_id"]


def test_a_secret_only_in_tool_call_arguments_is_blocked(http: httpx.Client) -> None:
    chat = tool_call_chat()
    texts = ["Look up the deploy credentials.", "done", "Thanks, summarize what you did."]
    answer = http.post(ROUTE, json=call("", structured_messages=chat, texts=texts)).json()
    assert answer["action"] == "BLOCKED", answer
    assert "isolation.secrets" in answer["blocked_reason"]
    assert AWS_KEY not in answer["blocked_reason"]


def test_tool_calls_sent_apart_from_the_messages_are_scanned(http: httpx.Client) -> None:
    tool_call = {
        "id": "call_9",
        "type": "function",
        "function": {"name": "lookup", "arguments": f'{{"key": "{AWS_KEY}"}}'},
    }
    body = call("Run the lookup.", structured_messages=None, tool_calls=[tool_call])
    answer = http.post(ROUTE, json=body).json()
    assert answer["action"] == "BLOCKED", answer


def test_tools_and_images_reach_the_model_so_they_are_scanned(
    http: httpx.Client, engine: Server
) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "description": NAME_AND_SSN}}
    for fields in (
        {"tools": [tool]},
        {"images": [f"https://files.example.com/scan.png?note={NAME_AND_SSN}"]},
    ):
        answer = http.post(ROUTE, json=call("Run the lookup.", **fields)).json()
        assert answer["action"] == "BLOCKED", fields
        assert SSN not in answer["blocked_reason"]
    image_only = call("", structured_messages=None, texts=[], images=["data:image/png;base64,AA=="])
    answer = http.post(ROUTE, json=image_only).json()
    assert answer["action"] == "NONE"
    record = audit_record(engine, answer["decision_id"])
    assert record["unscanned"] == [{"kind": "image", "message": 0, "path": "content.0.image_url"}]


def test_texts_alone_are_scanned(http: httpx.Client) -> None:
    answer = http.post(ROUTE, json=call(NAME_AND_SSN, structured_messages=None)).json()
    assert answer["action"] == "BLOCKED"


def test_a_response_is_decided_and_blocked_only_against_a_known_endpoint(
    http: httpx.Client, engine: Server
) -> None:
    # LiteLLM names the model the upstream answered as, which need not be a model group.
    answer_text = f"The employee's SSN is {SSN}."
    body = call("", input_type="response", structured_messages=None, texts=[answer_text])
    for model in (None, "upstream-name-x"):
        passed = http.post(ROUTE, json={**body, "model": model}).json()
        assert passed["action"] == "NONE"
        record = audit_record(engine, passed["decision_id"])
        assert record["segment"] == "on_prem_only"
        assert {f["type"] for f in record["findings"]} == {"US_SSN"}
        assert record["requested_endpoint_allowed"] is None
        assert "requested_endpoint" not in record["context"]
    blocked = http.post(ROUTE, json=body).json()
    assert blocked["action"] == "BLOCKED"
    assert (
        "the answer holds content that 'deepseek-v4-flash' may not receive"
        in (blocked["blocked_reason"])
    )
    assert SSN not in blocked["blocked_reason"]


def test_a_request_without_a_model_group_is_blocked(http: httpx.Client) -> None:
    answer = http.post(ROUTE, json=call("Hello there.", model=None)).json()
    assert answer["action"] == "BLOCKED"
    assert "names no model group" in answer["blocked_reason"]


def test_a_model_group_that_is_no_catalog_endpoint_is_blocked(http: httpx.Client) -> None:
    answer = http.post(ROUTE, json=call("Hello there.", model="my-chat")).json()
    assert answer["action"] == "BLOCKED"
    assert "'my-chat' is not a catalog endpoint" in answer["blocked_reason"]
    assert "PE_LITELLM_MODEL_MAP" in answer["blocked_reason"]


def test_the_guardrail_params_map_model_groups_and_set_the_context(
    http: httpx.Client, engine: Server
) -> None:
    params = {
        "model_map": {"public-chat": "deepseek-v4-flash", "private-chat": "onprem-qwen3-32b"},
        "tenant": "acme",
        "purpose": "support",
    }
    request_data = {"user_api_key_team_alias": "support-bot", "user_api_key_end_user_id": "u-42"}
    public = call(
        NAME_AND_SSN,
        model="public-chat",
        additional_provider_specific_params=params,
        request_data=request_data,
    )
    blocked = http.post(ROUTE, json=public).json()
    assert blocked["action"] == "BLOCKED"
    assert "model group 'public-chat' (deepseek-v4-flash)" in blocked["blocked_reason"]
    record = audit_record(engine, blocked["decision_id"])
    context = record["context"]
    assert context["tenant"] == "acme"
    assert context["application"] == "support-bot"
    assert context["purpose"] == "support"
    assert context["requested_endpoint"] == "deepseek-v4-flash"
    assert context["user"] != "u-42" and context["user"].startswith("hmac-sha256:")
    private = http.post(ROUTE, json={**public, "model": "private-chat"}).json()
    assert private["action"] == "NONE"


def test_unknown_fields_are_ignored(http: httpx.Client) -> None:
    body = call(
        "Summarize our refund policy.",
        images=["data:image/png;base64,iVBORw0KGgo="],
        tools=[{"type": "function", "function": {"name": "lookup"}}],
        request_headers={"user-agent": "OpenAI/Python 2.0"},
        a_field_of_a_later_litellm={"anything": [1, 2]},
    )
    response = http.post(ROUTE, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "NONE"


def test_nothing_to_check_passes_without_a_decision(http: httpx.Client) -> None:
    body = call("", input_type="response", structured_messages=None, texts=[""])
    response = http.post(ROUTE, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"action": "NONE"}


def test_the_key_may_come_as_x_api_key(engine: Server) -> None:
    body = call("Hello there.")
    with httpx.Client(base_url=engine.url, timeout=60) as anonymous:
        ok = anonymous.post(ROUTE, json=body, headers={"x-api-key": GATEWAY_KEY})
        assert ok.status_code == 200, ok.text
        missing = anonymous.post(ROUTE, json=body)
        assert missing.status_code == 401
        assert "x-api-key" in missing.json()["message"]
        wrong = anonymous.post(ROUTE, json=body, headers={"x-api-key": "not-a-key-0000000000"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_key"
        auditor = anonymous.post(ROUTE, json=body, headers={"x-api-key": AUDITOR_KEY})
        assert auditor.status_code == 403
        # /decide still takes a bearer token only.
        decide = anonymous.post(
            "/decide", json={"content": "hi"}, headers={"x-api-key": GATEWAY_KEY}
        )
        assert decide.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"texts": ["hi"], "model": "deepseek-v4-flash"}, "input_type"),
        ({"input_type": "during"}, "input_type"),
        ({"input_type": "request", "texts": "hi"}, "texts"),
        ({"input_type": "request", "structured_messages": ["hi"]}, "structured_messages.0"),
        ({"input_type": "request", "texts": ["hi"], "litellm_call_id": "a b"}, "litellm_call_id"),
        (
            {
                "input_type": "request",
                "texts": ["hi"],
                "additional_provider_specific_params": {"tenant": 7},
            },
            "additional_provider_specific_params.tenant",
        ),
        (
            {
                "input_type": "request",
                "texts": ["hi"],
                "model": "x",
                "additional_provider_specific_params": {"model_map": ["x"]},
            },
            "additional_provider_specific_params.model_map",
        ),
    ],
)
def test_bad_input_gets_a_422_naming_the_field(
    http: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = http.post(ROUTE, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert field in [d["field"] for d in response.json()["details"]]


def test_a_body_that_is_not_json_gets_a_400(http: httpx.Client) -> None:
    response = http.post(
        ROUTE, content=b'{"input_type": "request"', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_a_decision_that_cannot_be_recorded_blocks_with_200(
    http: httpx.Client, engine: Server
) -> None:
    with sqlite_write_locked(engine.db_path):
        response = http.post(ROUTE, json=call("Summarize our refund policy."))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["action"] == "BLOCKED"
    assert "could not record a decision" in answer["blocked_reason"]
    assert "decision_id" not in answer
    after = http.post(ROUTE, json=call("Summarize our refund policy."))
    assert after.json()["action"] == "NONE"


def test_the_service_s_model_map_wins_and_callers_cannot_remap(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # LiteLLM merges a caller's per-request guardrail parameters into the static ones, so
    # with PE_LITELLM_MODEL_MAP set, a model_map there is not used.
    mapped = start_server(
        tmp_path_factory.mktemp("litellm-mapped"),
        PE_DETECTION_BACKEND="patterns",
        PE_LITELLM_MODEL_MAP='{"public-chat": "deepseek-v4-flash"}',
    )
    try:
        with httpx.Client(base_url=mapped.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
            remap = {"model_map": {"public-chat": "onprem-qwen3-32b"}}
            body = call(NAME_AND_SSN, model="public-chat")
            body["additional_provider_specific_params"] = remap
            answer = http.post(ROUTE, json=body).json()
            assert answer["action"] == "BLOCKED"
            assert "'public-chat' (deepseek-v4-flash)" in answer["blocked_reason"]
            on_prem = http.post(ROUTE, json=call(NAME_AND_SSN, model="onprem-qwen3-32b")).json()
            assert on_prem["action"] == "NONE"
    finally:
        mapped.stop()
