"""Shape limits on /decide bodies: each names the limit it enforces, never a value."""

from __future__ import annotations

from typing import Any

import pytest

from policy_engine.intake import LimitExceeded, RequestLimits, check_limits, nesting_depth

LIMITS = RequestLimits(max_messages=3, max_nesting_depth=6, max_message_chars=20, strict=True)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_depth_counts_objects_and_arrays() -> None:
    assert nesting_depth("x") == 0
    assert nesting_depth({}) == 1
    assert nesting_depth({"a": [1, {"b": [[]]}]}) == 5
    assert nesting_depth(nested(5000)) == 5000  # iterative: no recursion limit


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"content": "hi", "x": nested(6)}, 400, "nesting_too_deep"),
        ({"content": "y" * 21}, 413, "content_too_long"),
        ({"messages": [{"role": "user", "content": "hi"}] * 4}, 413, "too_many_messages"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "z" * 21}]}]},
            413,
            "content_too_long",
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"function": {"name": "f", "arguments": "w" * 21}}],
                    }
                ]
            },
            413,
            "content_too_long",
        ),
        ({"messages": [{"role": "user", "content": "hi", "colour": 1}]}, 422, "unknown_field"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "a", "b": 1}]}]},
            422,
            "unknown_field",
        ),
        (
            {"messages": [{"role": "assistant", "tool_calls": [{"function": {"extra": 1}}]}]},
            422,
            "unknown_field",
        ),
    ],
)
def test_limits_reject_with_status_and_code(body: dict[str, Any], status: int, code: str) -> None:
    with pytest.raises(LimitExceeded) as caught:
        check_limits(body, LIMITS)
    assert (caught.value.status, caught.value.code) == (status, code)
    for text in ("y" * 21, "z" * 21, "w" * 21):
        assert text not in str(caught.value)


def test_within_limits_and_lenient_mode_pass() -> None:
    check_limits({"messages": [{"role": "user", "content": "hi"}] * 3}, LIMITS)
    lenient = RequestLimits(strict=False)
    check_limits({"messages": [{"role": "user", "content": "hi", "colour": 1}]}, lenient)
