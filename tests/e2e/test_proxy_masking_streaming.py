"""The routing proxy's masking (``redact:`` obligations) and streaming, with the real OpenAI
SDK against the real service and fake upstreams that record what reached them."""

from __future__ import annotations

import re
import time

import openai

from tests.conftest import Server
from tests.fake_openai import CHUNK_CHARACTERS
from tests.proxy_support import EMAIL, Upstreams, audit_record, delivery_of, model_of, user

#: The masking example module applies to this application (examples/policies/masking).
MASKED_APP = {"application": "support-bot"}
PROMPT = f"Please draft a short reply to {EMAIL} about the refund; sign it from {EMAIL}."
PLACEHOLDER = re.compile(r"<EMAIL_ADDRESS_[0-9a-f]{8}>")


def sent_texts(fake_requests: list[object]) -> list[str]:
    return [text for request in fake_requests for text in request.texts()]  # type: ignore[attr-defined]


def test_redacted_values_reach_the_upstream_as_placeholders_and_come_back(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(PROMPT), metadata=MASKED_APP
    )
    decision_id = raw.headers["x-policy-engine-decision-id"]
    decision = audit_record(proxy_server, decision_id)
    assert decision["segment"] == "trusted_hosted"
    assert "redact:EMAIL_ADDRESS" in decision["obligations"]
    assert raw.headers["x-policy-engine-endpoint"] == "glm-4-plus-fireworks"
    [sent] = sent_texts(fresh.trusted_hosted.received(model_of("glm-4-plus-fireworks")))
    assert EMAIL not in sent
    placeholders = PLACEHOLDER.findall(sent)
    assert len(placeholders) == 2 and placeholders[0] == placeholders[1]  # one value, one name
    assert raw.parse().choices[0].message.content == "echo: " + PROMPT
    delivery = delivery_of(proxy_server, decision_id)["delivery"]
    assert delivery["masked_types"] == ["EMAIL_ADDRESS"]
    assert EMAIL not in proxy_server.log_text()
    stored = b"".join(p.read_bytes() for p in proxy_server.workdir.glob("audit.db*"))
    assert EMAIL.encode() not in stored


def test_a_value_to_mask_beside_the_messages_is_refused_not_forwarded(
    sdk: openai.OpenAI, fresh: Upstreams
) -> None:
    """The proxy rewrites messages only: a value to mask in a tool's description would go
    out as it is, so the call is refused and nothing leaves."""
    tool = {"type": "function", "function": {"name": "mail", "description": f"Write to {EMAIL}"}}
    try:
        sdk.chat.completions.create(
            model="auto", messages=user("Draft a refund reply."), tools=[tool], metadata=MASKED_APP
        )
    except openai.PermissionDeniedError as error:
        message = str(error)
    else:
        raise AssertionError("a value to mask in tools was forwarded")
    assert "fields beside the messages" in message and "nothing was forwarded" in message
    assert EMAIL not in message
    assert fresh.trusted_hosted.received() == fresh.public_hosted.received() == []
    assert fresh.on_prem.received() == []


def test_without_the_obligation_nothing_is_masked(sdk: openai.OpenAI, fresh: Upstreams) -> None:
    sdk.chat.completions.create(model="auto", messages=user(PROMPT), metadata={"tenant": "acme"})
    [sent] = sent_texts(fresh.trusted_hosted.received())
    assert EMAIL in sent  # the shipped rules alone send contact data to trusted vendors


def test_a_value_gets_the_same_placeholder_in_every_turn_of_a_conversation(
    sdk: openai.OpenAI, fresh: Upstreams
) -> None:
    def placeholder(conversation: str) -> str:
        fresh.reset()
        sdk.chat.completions.create(
            model="auto",
            messages=user(PROMPT),
            metadata={**MASKED_APP, "conversation_id": conversation},
        )
        [sent] = sent_texts(fresh.trusted_hosted.received())
        return PLACEHOLDER.findall(sent)[0]

    first = placeholder("masked-conversation-a")
    assert placeholder("masked-conversation-a") == first
    assert placeholder("masked-conversation-b") != first


def test_a_streamed_answer_is_restored_even_where_a_placeholder_is_split(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(PROMPT), metadata=MASKED_APP, stream=True
    )
    assert raw.headers["x-policy-engine-endpoint"] == "glm-4-plus-fireworks"
    assert raw.headers["content-type"].startswith("text/event-stream")
    pieces = [chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices]
    assert "".join(pieces) == "echo: " + PROMPT
    assert not any("<EMAIL" in piece or "_ADDRESS_" in piece for piece in pieces)
    [sent] = sent_texts(fresh.trusted_hosted.received())
    upstream_answer = "echo: " + sent
    names = PLACEHOLDER.finditer(upstream_answer)
    assert any(m.start() // CHUNK_CHARACTERS != (m.end() - 1) // CHUNK_CHARACTERS for m in names)
    delivery = delivery_of(proxy_server, raw.headers["x-policy-engine-decision-id"])["delivery"]
    assert delivery["stream"] is True
    assert delivery["masked_types"] == ["EMAIL_ADDRESS"]
    assert delivery["usage"]["completion_tokens"] >= 1


def test_a_stream_is_relayed_chunk_by_chunk(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    fresh.trusted_hosted.pause(model_of("glm-4-plus-fireworks"), 0.3)
    text = "Tell me a long story about a lighthouse keeper and a very patient cat."
    stream = sdk.chat.completions.create(model="auto", messages=user(text), stream=True)
    first_content: float | None = None
    pieces: list[str] = []
    chunks = 0
    for chunk in stream:
        chunks += 1
        assert chunk.choices, "the usage chunk was not asked for, so none is passed on"
        content = chunk.choices[0].delta.content
        if content and first_content is None:
            first_content = time.monotonic()
        pieces.append(content or "")
    assert "".join(pieces) == "echo: " + text
    assert chunks >= len("echo: " + text) // CHUNK_CHARACTERS
    [finished] = fresh.trusted_hosted.streams_finished
    assert first_content is not None and first_content < finished
    sent = fresh.trusted_hosted.received()[0].body
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


def test_a_stream_with_usage_asked_for_passes_it_on_and_records_it(
    sdk: openai.OpenAI, fresh: Upstreams, proxy_server: Server
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto",
        messages=user("Name a colour."),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    delivery = delivery_of(proxy_server, raw.headers["x-policy-engine-decision-id"])["delivery"]
    assert delivery["usage"] == usage.model_dump(
        include={"prompt_tokens", "completion_tokens", "total_tokens"}
    )
