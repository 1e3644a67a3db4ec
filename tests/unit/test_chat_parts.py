"""Every part of a chat is scanned, and each text says where it came from."""

from __future__ import annotations

from typing import Any

from policy_engine.models import DecideRequest

CHAT: list[dict[str, Any]] = [
    {"role": "system", "content": "system text"},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "user text"},
            {"type": "image_url", "image_url": {"url": "https://img.example/x.png"}},
            {
                "type": "tool_result",
                "tool_use_id": "t1",
                "content": [{"type": "text", "text": "nested tool result"}],
            },
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"q": 1}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "tool output"},
    {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "u1", "name": "lookup", "input": {"who": "x"}}],
        "function_call": {"name": "g", "arguments": "legacy args"},
        "refusal": "refusal text",
    },
]


def test_every_part_is_a_scan_unit_with_message_and_part() -> None:
    units = DecideRequest.model_validate({"messages": CHAT}).segments_to_scan()
    assert [(u.message, u.part, u.text) for u in units] == [
        (0, None, "system text"),
        (1, 0, "user text"),
        (1, 2, "nested tool result"),
        (2, 0, '{"q": 1}'),
        (3, None, "tool output"),
        (4, 0, '{"who": "x"}'),
        (4, 1, "legacy args"),
        (4, 2, "refusal text"),
    ]


def test_plain_content_is_one_unit() -> None:
    units = DecideRequest.model_validate({"content": "hello"}).segments_to_scan()
    assert [(u.message, u.part, u.text) for u in units] == [(None, None, "hello")]
