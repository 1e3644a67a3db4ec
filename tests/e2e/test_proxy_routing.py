"""The routing proxy with the real OpenAI SDK against the real service, upstreams faked on
loopback: where prompts go, refusals, fallback inside the allowed set, sticky
conversations, headers, usage in the delivery record, /v1/models, audit verify."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest
import yaml

from tests.audit_support import sqlite_write_locked
from tests.conftest import GATEWAY_KEY, Server, run_cli
from tests.proxy_support import (
    CARD,
    SSN,
    UPSTREAM_TIMEOUT,
    Upstreams,
    audit_record,
    delivery_of,
    model_of,
    user,
)

CLEAN = "What are three good names for a bakery that sells sourdough?"
SENSITIVE = f"Customer Maria Keller (SSN {SSN}) asked us to update her card {CARD}."


def test_a_clean_prompt_goes_to_the_cheapest_allowed_endpoint(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=user(CLEAN))
    answer = raw.parse()
    decision_id = raw.headers["x-policy-engine-decision-id"]
    decision = audit_record(proxy_server, decision_id)
    assert raw.headers["x-policy-engine-segment"] == decision["segment"] == "any"
    endpoint = raw.headers["x-policy-engine-endpoint"]
    assert endpoint == decision["allowed_endpoints"][0] == decision["recommended_endpoint"]
    catalog = yaml.safe_load((proxy_server.workdir / "catalog.yaml").read_text())
    prices = {
        e["id"]: e["price"]["input_per_mtok"] + e["price"]["output_per_mtok"]
        for e in catalog["endpoints"]
    }
    assert prices[endpoint] == min(prices[e] for e in decision["allowed_endpoints"])
    assert answer.choices[0].message.content == "echo: " + CLEAN
    received = [r.model for fake in fresh.all() for r in fake.received()]
    assert received == [model_of(endpoint)]


def test_the_practical_tier_sends_a_clean_prompt_to_the_cheapest_public_endpoint(
    sdk: openai.OpenAI, fresh: Upstreams
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(CLEAN), metadata={"tier": "practical"}
    )
    assert raw.headers["x-policy-engine-endpoint"] == "deepseek-v4-flash"
    assert [r.model for r in fresh.public_hosted.received()] == [model_of("deepseek-v4-flash")]


def test_an_ssn_reaches_only_an_on_prem_upstream(sdk: openai.OpenAI, fresh: Upstreams) -> None:
    for tier in (None, "advanced", "practical"):
        metadata = {"tier": tier} if tier else None
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=user(SENSITIVE), metadata=metadata
        )
        assert raw.headers["x-policy-engine-segment"] == "on_prem_only"
        assert raw.headers["x-policy-engine-endpoint"] == "onprem-qwen3-32b"
    assert [r.model for r in fresh.on_prem.received()] == [model_of("onprem-qwen3-32b")] * 3
    assert fresh.trusted_hosted.received() == fresh.public_hosted.received() == []


def test_an_ssn_beside_the_messages_is_scanned_too(sdk: openai.OpenAI, fresh: Upstreams) -> None:
    """Every field the proxy forwards reaches the model, so every one is scanned: a tool's
    description, a response format's schema, a field the proxy does not know."""
    tool = {"type": "function", "function": {"name": "lookup", "description": SENSITIVE}}
    schema = {"type": "json_schema", "json_schema": {"name": "x", "description": SENSITIVE}}
    for extra in (
        {"tools": [tool]},
        {"response_format": schema},
        {"extra_body": {"system": SENSITIVE}},
    ):
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=user(CLEAN), **extra
        )
        assert raw.headers["x-policy-engine-segment"] == "on_prem_only", extra
        assert raw.headers["x-policy-engine-endpoint"] == "onprem-qwen3-32b"
    assert len(fresh.on_prem.received()) == 3
    assert fresh.trusted_hosted.received() == fresh.public_hosted.received() == []


def test_an_ssn_sent_to_a_public_model_is_refused_and_nothing_leaves(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk.chat.completions.create(model="deepseek-v4-flash", messages=user(SENSITIVE))
    error = refused.value
    body = error.response.json()["error"]
    assert body["code"] == "endpoint_not_allowed"
    assert body["type"] == "policy_error"
    decision_id = error.response.headers["x-policy-engine-decision-id"]
    assert decision_id in body["message"]
    assert "isolation.sensitive_pii" in body["message"]
    assert "onprem-qwen3-32b" in body["message"]
    assert SSN not in error.response.text and CARD not in error.response.text
    assert audit_record(proxy_server, decision_id)["segment"] == "on_prem_only"
    assert fresh.received_models() == {"on_prem": [], "trusted_hosted": [], "public_hosted": []}


def test_fallback_never_leaves_the_allowed_set(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    fresh.on_prem.fail(model_of("onprem-qwen3-32b"), 500)
    with pytest.raises(openai.APIStatusError) as failed:
        sdk.chat.completions.create(model="auto", messages=user(SENSITIVE))
    response = failed.value.response
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert "x-policy-engine-endpoint" not in response.headers
    decision_id = response.headers["x-policy-engine-decision-id"]
    assert audit_record(proxy_server, decision_id)["allowed_endpoints"] == ["onprem-qwen3-32b"]
    delivery = delivery_of(proxy_server, decision_id)["delivery"]
    assert delivery["endpoint"] is None
    assert [(a["endpoint"], a["result"], a["status"]) for a in delivery["attempts"]] == [
        ("onprem-qwen3-32b", "http_5xx", 500)
    ]
    assert fresh.trusted_hosted.received() == fresh.public_hosted.received() == []


def test_fallback_prefers_another_vendor(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    # In the practical tier DeepSeek's two endpoints come first (flash, then pro).
    fresh.public_hosted.fail(model_of("deepseek-v4-flash"), 429)
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(CLEAN), metadata={"tier": "practical"}
    )
    decision_id = raw.headers["x-policy-engine-decision-id"]
    allowed = audit_record(proxy_server, decision_id)["allowed_endpoints"]
    assert allowed[:2] == ["deepseek-v4-flash", "deepseek-v4-pro"]
    answered = raw.headers["x-policy-engine-endpoint"]
    assert answered == allowed[2] == "glm-4-plus-fireworks"
    assert raw.parse().choices[0].message.content == "echo: " + CLEAN
    delivery = delivery_of(proxy_server, decision_id)["delivery"]
    assert delivery["endpoint"] == answered
    assert delivery["upstream_model"] == model_of(answered)
    assert delivery["tier"] == "practical"
    assert [(a["endpoint"], a["result"]) for a in delivery["attempts"]] == [
        ("deepseek-v4-flash", "http_429"),
        ("glm-4-plus-fireworks", "ok"),
    ]
    assert fresh.public_hosted.received(model_of("deepseek-v4-pro")) == []


def test_a_hanging_upstream_times_out_and_the_next_allowed_one_answers(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    fresh.trusted_hosted.hang(model_of("glm-4-plus-fireworks"), UPSTREAM_TIMEOUT + 5)
    raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=user(CLEAN))
    assert raw.headers["x-policy-engine-endpoint"] == "glm-4-plus-zhipu"
    attempts = delivery_of(proxy_server, raw.headers["x-policy-engine-decision-id"])["delivery"][
        "attempts"
    ]
    assert [(a["endpoint"], a["result"], a["status"]) for a in attempts] == [
        ("glm-4-plus-fireworks", "timeout", None),
        ("glm-4-plus-zhipu", "ok", 200),
    ]
    assert attempts[0]["latency_ms"] >= UPSTREAM_TIMEOUT * 1000


def test_when_every_attempt_times_out_the_answer_is_504(
    sdk: openai.OpenAI, fresh: Upstreams
) -> None:
    for endpoint in ("glm-4-plus-fireworks", "glm-4-plus-zhipu"):
        fresh.trusted_hosted.hang(model_of(endpoint), UPSTREAM_TIMEOUT + 5)
        fresh.public_hosted.hang(model_of(endpoint), UPSTREAM_TIMEOUT + 5)
    with pytest.raises(openai.APIStatusError) as failed:
        sdk.chat.completions.create(model="auto", messages=user(CLEAN))
    assert failed.value.status_code == 504
    error = failed.value.response.json()["error"]
    assert error["code"] == "upstream_timeout"
    assert "glm-4-plus-fireworks: timeout, glm-4-plus-zhipu: timeout" in error["message"]


def test_a_conversation_sticks_to_its_endpoint_until_a_turn_tightens_the_segment(
    sdk: openai.OpenAI, fresh: Upstreams
) -> None:
    conversation = {"x-policy-engine-conversation-id": "sticky-conversation-1"}

    def turn(text: str, headers: dict[str, str] = conversation) -> str:
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=user(text), extra_headers=headers
        )
        return raw.headers["x-policy-engine-endpoint"]

    fresh.trusted_hosted.fail(model_of("glm-4-plus-fireworks"), 429)
    assert turn("first turn: " + CLEAN) == "glm-4-plus-zhipu"  # the fallback answered
    fresh.reset()  # the cheapest endpoint works again ...
    assert turn("second turn: " + CLEAN) == "glm-4-plus-zhipu"  # ... the conversation stays
    assert turn("third turn: " + SENSITIVE) == "onprem-qwen3-32b"  # on_prem_only moves it
    assert turn("fourth turn: " + CLEAN) == "onprem-qwen3-32b"  # still allowed: it stays
    other = {"x-policy-engine-conversation-id": "sticky-conversation-2"}
    assert turn(CLEAN, other) == "glm-4-plus-fireworks"
    assert turn(CLEAN, {}) == "glm-4-plus-fireworks"


def test_the_user_field_keeps_a_conversation_too(sdk: openai.OpenAI, fresh: Upstreams) -> None:
    fresh.trusted_hosted.fail(model_of("glm-4-plus-fireworks"), 503)
    first = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(CLEAN), user="user-sticky-7"
    )
    fresh.reset()
    second = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(CLEAN), user="user-sticky-7"
    )
    assert first.headers["x-policy-engine-endpoint"] == "glm-4-plus-zhipu"
    assert second.headers["x-policy-engine-endpoint"] == "glm-4-plus-zhipu"
    sent = fresh.public_hosted.received()[0].body  # glm-4-plus-zhipu is a public endpoint
    assert "user" not in sent


def test_usage_is_recorded_in_the_delivery_record(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(CLEAN), max_tokens=300, metadata={"tenant": "acme"}
    )
    answer = raw.parse()
    decision_id = raw.headers["x-policy-engine-decision-id"]
    record = delivery_of(proxy_server, decision_id)
    assert record["kind"] == "delivery"
    assert record["record_version"] == 3
    assert record["decision_id"] != decision_id
    assert record["findings"] == []
    assert record["context"]["tenant"] == "acme"
    assert record["context"]["max_output_tokens"] == 300
    delivery = record["delivery"]
    assert answer.usage is not None
    assert delivery["usage"] == answer.usage.model_dump(
        include={"prompt_tokens", "completion_tokens", "total_tokens"}
    )
    assert delivery["stream"] is False
    assert delivery["masked_types"] == []
    decision = audit_record(proxy_server, decision_id)
    assert "kind" not in decision and decision["record_version"] == 3
    sent = fresh.trusted_hosted.received()[0].body
    assert sent["max_tokens"] == 300
    assert "metadata" not in sent  # the proxy's own keys are not forwarded


def test_models_lists_auto_and_the_routable_endpoints(
    sdk: openai.OpenAI, proxy_server: Server
) -> None:
    models = {model.id: model for model in sdk.models.list().data}
    catalog = yaml.safe_load((proxy_server.workdir / "catalog.yaml").read_text())
    assert set(models) == {"auto"} | {e["id"] for e in catalog["endpoints"]}
    assert models["gpt-4o"].owned_by == "OpenAI"
    assert (models["gpt-4o"].model_extra or {})["tier"] == "advanced"


def test_bad_requests_get_openai_shaped_4xx(proxy_server: Server, fresh: Upstreams) -> None:
    url = proxy_server.url + "/v1/chat/completions"
    key = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    cases = [
        ({"messages": user(CLEAN)}, 400, "invalid_request"),
        ({"model": "auto", "messages": []}, 400, "invalid_request"),
        ({"model": "auto", "messages": user(CLEAN), "stream": "yes"}, 400, "invalid_request"),
        ({"model": "auto", "messages": user(CLEAN), "metadata": {"tier": "huge"}}, 400,
         "invalid_request"),
        ({"model": "no-such-model", "messages": user(CLEAN)}, 404, "model_not_found"),
        ({"model": "auto", "messages": [{"role": "user"}]}, 422, "invalid_request"),
    ]  # fmt: skip
    for body, status, code in cases:
        response = httpx.post(url, json=body, headers=key, timeout=60)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code
        assert set(response.json()["error"]) >= {"message", "type", "code"}
    for body, param in (
        ({"model": "auto", "messages": user(CLEAN), "stream": "yes"}, "stream"),
        ({"model": "auto", "messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
        ({"model": "auto", "messages": [{"role": "user"}]}, None),  # the whole body
    ):
        response = httpx.post(url, json=body, headers=key, timeout=60)
        assert response.json()["error"]["param"] == param, response.text
    not_json = httpx.post(
        url, content=b'{"model": ', headers={**key, "content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"] == "invalid_json"
    unauthenticated = httpx.post(url, json={"model": "auto", "messages": user(CLEAN)})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["type"] == "authentication_error"
    assert httpx.get(proxy_server.url + "/v1/embeddings").json()["error"]["code"] == "unknown_url"
    assert [fake.received() for fake in fresh.all()] == [[], [], []]


def test_audit_verify_covers_decision_and_delivery_records(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=user(CLEAN))
    delivery_of(proxy_server, raw.headers["x-policy-engine-decision-id"])
    verified = run_cli(proxy_server.workdir, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK: ")
    deliveries = run_cli(
        proxy_server.workdir, "audit", "query", "--kind", "delivery", "--format", "jsonl"
    )
    assert deliveries.returncode == 0, deliveries.stderr
    kinds = {json.loads(line)["kind"] for line in deliveries.stdout.splitlines()}
    assert kinds == {"delivery"}


def test_no_audit_record_means_nothing_is_forwarded_and_a_lost_delivery_record_is_counted(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    fresh.trusted_hosted.pause(model_of("glm-4-plus-fireworks"), 0.2)
    stream = sdk.chat.completions.create(model="auto", messages=user(CLEAN), stream=True)
    pieces = [next(iter(stream)).choices[0].delta.content or ""]  # decided and appended
    with sqlite_write_locked(proxy_server.db_path):
        pieces += [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
        assert "".join(pieces) == "echo: " + CLEAN  # the answer was sent ...
        with pytest.raises(openai.APIStatusError) as refused:
            sdk.chat.completions.create(model="auto", messages=user("while the log is down"))
        assert refused.value.status_code == 503
        assert refused.value.response.json()["error"]["code"] == "audit_unavailable"
        assert "x-policy-engine-decision-id" not in refused.value.response.headers
        metrics = ""
        for _ in range(300):  # ... and its delivery record could not be appended
            metrics = httpx.get(proxy_server.url + "/metrics").text
            if "policy_engine_delivery_record_failures_total 1.0" in metrics:
                break
            time.sleep(0.1)
        assert "policy_engine_delivery_record_failures_total 1.0" in metrics
    assert [r.texts() for r in fresh.trusted_hosted.received()] == [[CLEAN]]
    assert '"delivery_record_failed"' in proxy_server.log_text()
    verified = run_cli(proxy_server.workdir, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
