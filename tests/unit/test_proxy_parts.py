"""The routing proxy's pure parts: placeholders and their restoration (split anywhere in a
stream), the route plan (allowed set, vendor preference, refusals), the chat body, the
event relay, and tier ranking."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from policy_engine.catalog import Catalog
from policy_engine.decision import rank_endpoints, routing_tier
from policy_engine.errors import RequestError
from policy_engine.models import PolicyResult, RequestContext, Segment
from policy_engine.proxy.chat_request import parse_chat_call
from policy_engine.proxy.masking import Masking, MaskingError, mask_messages
from policy_engine.proxy.openai_errors import ProxyError
from policy_engine.proxy.plan import plan_route
from policy_engine.proxy.relay import EventRelay
from policy_engine.proxy.split_restore import SplitRestorer
from policy_engine.proxy.upstreams import Target, UpstreamClient
from policy_engine.records import AuditedFinding, AuditRecord

EMAIL = "jane.doe@example.com"


def digest(value: str) -> str:
    return "digest:" + value[::-1]


def email_finding(message: int, path: str, text: str, value: str = EMAIL) -> AuditedFinding:
    start = text.index(value)
    return AuditedFinding(
        type="EMAIL_ADDRESS", category="pii", count=1, max_score=1.0,
        spans=[(start, start + len(value))], detector="test", message=message, path=path,
        value_digests=[digest(value)],
    )  # fmt: skip


def test_masking_replaces_values_everywhere_and_restores_them() -> None:
    text = f"Write to {EMAIL} today."
    messages: list[Any] = [
        {"role": "system", "content": f"The customer is {EMAIL}."},
        {"role": "user", "content": [{"type": "text", "text": text}]},
    ]
    masking = Masking(b"k" * 32)
    masked = mask_messages(
        messages, [email_finding(1, "content.0.text", text)], {"EMAIL_ADDRESS"}, masking, digest
    )
    assert EMAIL not in json.dumps(masked)
    assert EMAIL in json.dumps(messages)  # the client's body is left as it was
    [name] = masking.values
    assert masked[0]["content"] == f"The customer is {name}."
    assert masking.restore(f"Dear {name}, {name}") == f"Dear {EMAIL}, {EMAIL}"
    assert masking.types == {"EMAIL_ADDRESS"}


def test_placeholders_are_keyed_digests() -> None:
    one, two = Masking(b"a" * 32), Masking(b"b" * 32)
    assert one.placeholder("EMAIL_ADDRESS", EMAIL) == one.placeholder("EMAIL_ADDRESS", EMAIL)
    assert one.placeholder("EMAIL_ADDRESS", EMAIL) != two.placeholder("EMAIL_ADDRESS", EMAIL)
    assert EMAIL not in one.placeholder("EMAIL_ADDRESS", EMAIL)


def test_values_in_nested_parts_and_objects_are_masked_too() -> None:
    text = f"ticket from {EMAIL}"
    metadata = {"owner": EMAIL}
    result = {"type": "tool_result", "content": [{"type": "text", "text": text}]}
    messages: list[Any] = [
        {"role": "tool", "content": [result]},
        {"role": "user", "content": "hi", "metadata": metadata},
    ]
    metadata_json = json.dumps(metadata, sort_keys=True)
    findings = [
        email_finding(0, "content.0.content.0.text", text),
        email_finding(1, "metadata", metadata_json),
    ]
    masking = Masking(b"k" * 32)
    masked = mask_messages(messages, findings, {"EMAIL_ADDRESS"}, masking, digest)
    assert EMAIL not in json.dumps(masked)
    [name] = masking.values
    assert masked[1]["metadata"] == {"owner": name}


def test_a_value_the_proxy_cannot_rewrite_refuses_the_request() -> None:
    """A value in a field name (a path shows it as '*'): it cannot be rewritten."""
    messages = [{"role": "user", "content": "hi", "x": {EMAIL: 1}}]
    finding = email_finding(0, "*", json.dumps({"x": {EMAIL: 1}}, sort_keys=True))
    with pytest.raises(MaskingError):
        mask_messages(messages, [finding], {"EMAIL_ADDRESS"}, Masking(b"k" * 32), digest)


def test_a_span_that_does_not_hold_the_recorded_value_refuses_the_request() -> None:
    text = f"Write to {EMAIL} today."
    finding = email_finding(0, "content", text)
    finding.value_digests = [digest("someone.else@example.com")]
    with pytest.raises(MaskingError):
        mask_messages(
            [{"role": "user", "content": text}], [finding], {"EMAIL_ADDRESS"}, Masking(b"k" * 32),
            digest,
        )  # fmt: skip


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_a_split_placeholder_is_restored_and_only_a_possible_one_is_held(size: int) -> None:
    masking = Masking(b"k" * 32)
    name = masking.placeholder("EMAIL_ADDRESS", EMAIL)
    answer = f"Hi <b>{name}</b> and <{name}> x<"
    restorer = SplitRestorer(masking)
    out = ""
    for start in range(0, len(answer), size):
        piece = restorer.feed((0, "content"), answer[start : start + size])
        assert "<EMAIL_ADDRESS_" not in piece
        out += piece
    out += restorer.flush((0, "content"))
    assert out == answer.replace(name, EMAIL)
    held = SplitRestorer(masking)
    assert held.feed((0, "content"), "a <b> c") == "a <b> c"  # no placeholder starts so
    assert held.feed((0, "content"), "z <EMAIL_AD") == "z "
    assert held.pending() == [(0, "content")]


def test_the_relay_restores_streams_and_keeps_back_the_usage_chunk_not_asked_for() -> None:
    masking = Masking(b"k" * 32)
    name = masking.placeholder("EMAIL_ADDRESS", EMAIL)

    def event(content: str | None, finish: str | None = None) -> bytes:
        delta = {} if content is None else {"content": content}
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return b"data: " + json.dumps({"id": "c", "choices": [choice]}).encode() + b"\n\n"

    usage = {
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    upstream = (
        event("to " + name[:5]) + event(name[5:] + " ok") + event(None, "stop")
        + b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n"
    )  # fmt: skip
    relay = EventRelay(SplitRestorer(masking), wants_usage=False)
    sent: list[bytes] = []
    for start in range(0, len(upstream), 9):  # the bytes arrive cut anywhere
        sent.extend(relay.feed(upstream[start : start + 9]))
    sent.extend(relay.finish())
    assert sent[-1] == b"data: [DONE]\n\n"
    chunks = [json.loads(e[6:]) for e in sent[:-1]]
    assert all(chunk["choices"] for chunk in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == f"to {EMAIL} ok"
    assert relay.usage is not None and relay.usage.total_tokens == 7


def targets(*rows: tuple[str, str]) -> dict[str, Target]:
    return {e: Target(e, vendor, "http://u/v1/chat/completions", e, {}) for e, vendor in rows}


def decided(allowed: list[str], obligations: list[str] | None = None) -> AuditRecord:
    return AuditRecord(
        decision_id="01TEST", segment=Segment.ANY, allowed_endpoints=allowed,
        recommended_endpoint=allowed[0] if allowed else None, requested_endpoint_allowed=None,
        excluded_endpoints=[], findings=[], reasons=[], obligations=obligations or [],
        policy_revision="r", outcome="decided", time="t", caller="c", content_digest="d",
        content_characters=1, engine_version="v", latency_ms=1.0,
    )  # fmt: skip


def test_the_plan_falls_back_once_inside_the_allowed_set_preferring_another_vendor() -> None:
    known = targets(("a1", "A"), ("a2", "A"), ("b1", "B"), ("outside", "C"))
    assert plan_route(decided(["a1", "a2", "b1"]), None, known, None) == ["a1", "b1"]
    assert plan_route(decided(["a1", "a2"]), None, known, None) == ["a1", "a2"]
    assert plan_route(decided(["a1"]), None, known, None) == ["a1"]
    assert plan_route(decided(["a1", "a2", "b1"]), None, known, "a2") == ["a2", "b1"]
    assert plan_route(decided(["a1", "b1"]), None, known, "outside") == ["a1", "b1"]
    assert plan_route(decided(["a1", "a2", "b1"]), "b1", known, "a1") == ["b1", "a1"]


@pytest.mark.parametrize(
    ("allowed", "requested", "obligations", "code"),
    [
        (["a1"], "b1", [], "endpoint_not_allowed"),
        ([], None, [], "no_allowed_endpoint"),
        (["a1"], None, ["notify:dpo"], "obligation_unsupported"),
        (["a1"], None, ["tier:gigantic"], "obligation_unsupported"),
    ],
)
def test_the_plan_refuses_what_the_decision_does_not_allow(
    allowed: list[str], requested: str | None, obligations: list[str], code: str
) -> None:
    with pytest.raises(ProxyError) as refused:
        plan_route(
            decided(allowed, obligations), requested, targets(("a1", "A"), ("b1", "B")), None
        )
    assert refused.value.code == code
    assert "01TEST" in str(refused.value)


def test_redact_and_known_tier_obligations_are_fulfilled() -> None:
    known = targets(("a1", "A"))
    assert plan_route(decided(["a1"], ["redact:PERSON", "tier:practical"]), None, known, None)


def test_the_chat_body_becomes_a_decision_context_and_an_upstream_body() -> None:
    call = parse_chat_call(
        {
            "model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "user": "u1",
            "max_tokens": 50, "stream": True, "temperature": 0.2,
            "metadata": {"tier": "advanced", "tenant": "acme", "conversation_id": "c9", "x": "y"},
        },
        {},
    )  # fmt: skip
    assert call.context == {
        "tier": "advanced", "tenant": "acme", "requested_endpoint": "gpt-4o",
        "max_output_tokens": 50, "user": "u1",
    }  # fmt: skip
    assert call.conversation == "c9"
    body = call.upstream_body("up-model", [{"role": "user", "content": "masked"}])
    assert body["model"] == "up-model" and body["temperature"] == 0.2
    assert body["metadata"] == {"x": "y"} and "user" not in body
    assert body["stream_options"] == {"include_usage": True}
    assert parse_chat_call(call.body, {"x-policy-engine-conversation-id": "h"}).conversation == "h"


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [{"role": "user", "content": "hi"}]},
        {"model": "auto", "messages": "hi"},
        {"model": "auto", "messages": [{"role": "user", "content": "hi"}], "max_tokens": -1},
        {"model": "auto", "messages": [{"role": "user", "content": "hi"}], "metadata": {"a": 1}},
    ],
)
def test_a_malformed_chat_body_is_a_400_naming_the_field(body: dict[str, Any]) -> None:
    with pytest.raises(RequestError) as bad:
        parse_chat_call(body, {})
    assert bad.value.status == 400
    assert bad.value.details[0]["field"] in str(bad.value)


def catalog() -> Catalog:
    def endpoint(eid: str, vendor: str, tier: str, price: float) -> dict[str, Any]:
        return {
            "id": eid, "model": eid, "vendor": vendor, "deployment": "public_hosted",
            "context_window": 100_000, "tier": tier,
            "price": {"input_per_mtok": price, "output_per_mtok": price},
        }  # fmt: skip

    return Catalog.model_validate(
        {
            "endpoints": [
                endpoint("cheap", "A", "practical", 0.1),
                endpoint("mid", "B", "balanced", 0.5),
                endpoint("mid2", "C", "balanced", 0.4),
                endpoint("top", "D", "advanced", 5.0),
            ]
        }
    )


def test_a_tier_orders_the_allowed_endpoints_cheapest_of_the_tier_first() -> None:
    result = PolicyResult(segment=Segment.ANY)

    def ranked(tier: str | None, obligations: list[str] | None = None) -> list[str]:
        context = RequestContext.model_validate({"tier": tier} if tier else {})
        policy = result.model_copy(update={"obligations": obligations or []})
        return rank_endpoints(catalog(), Segment.ANY, policy, context, 100)[0]

    assert ranked(None) == ["cheap", "mid2", "mid", "top"]
    assert ranked("balanced") == ["mid2", "mid", "cheap", "top"]
    assert ranked("advanced") == ["top", "cheap", "mid2", "mid"]
    assert ranked(None, ["tier:practical", "tier:advanced"]) == ["top", "cheap", "mid2", "mid"]
    assert ranked("practical", ["tier:advanced"]) == ["cheap", "mid2", "mid", "top"]
    assert routing_tier(RequestContext(), ["tier:nonsense"]) is None


def test_the_upstream_pool_is_made_on_first_use_and_closes_either_way() -> None:
    unused = UpstreamClient(connect_timeout=1.0, timeout=5.0)
    asyncio.run(unused.close())  # a service that never proxied closes without a pool
    assert unused._http is None

    used = UpstreamClient(connect_timeout=1.0, timeout=5.0)
    pool = used.http
    assert used.http is pool  # one pool for every call
    assert (pool.timeout.connect, pool.timeout.read) == (1.0, 5.0)
    asyncio.run(used.close())
    assert pool.is_closed
