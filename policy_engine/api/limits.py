"""Shape limits on a parsed ``POST /decide`` body, checked before validation.

Each violation is a :class:`LimitExceeded` carrying the status, error code and a message
that names the limit and where it was exceeded, never a value:

* nesting deeper than ``max_nesting_depth`` → 400 ``nesting_too_deep``;
* more than ``max_messages`` chat messages → 413 ``too_many_messages``;
* ``content``, or the texts of one message, longer than ``max_message_chars`` →
  413 ``content_too_long``;
* in strict mode, a field a chat message, content part or tool call does not define →
  422 ``unknown_field`` (the request and its context reject unknown fields always).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from policy_engine.models import ContentPart, Message, ToolCall, ToolCallFunction


@dataclass(frozen=True)
class RequestLimits:
    max_messages: int = 256
    max_nesting_depth: int = 32
    max_message_chars: int = 262_144
    strict: bool = False


class LimitExceeded(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def nesting_depth(document: Any) -> int:
    """How deeply objects and arrays nest (a scalar is 0, ``{}`` is 1); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def check_limits(body: dict[str, Any], limits: RequestLimits) -> None:
    """Raise :class:`LimitExceeded` for the first limit ``body`` breaks."""
    depth = nesting_depth(body)
    if depth > limits.max_nesting_depth:
        raise LimitExceeded(
            400,
            "nesting_too_deep",
            f"the body nests {depth} levels deep; the limit is {limits.max_nesting_depth}",
        )
    content = body.get("content")
    if isinstance(content, str) and len(content) > limits.max_message_chars:
        raise LimitExceeded(
            413,
            "content_too_long",
            f"content has {len(content)} characters; the limit is {limits.max_message_chars}",
        )
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    if len(messages) > limits.max_messages:
        raise LimitExceeded(
            413,
            "too_many_messages",
            f"{len(messages)} messages; the limit is {limits.max_messages}",
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        characters = _message_characters(message)
        if characters > limits.max_message_chars:
            raise LimitExceeded(
                413,
                "content_too_long",
                f"messages.{index} has {characters} characters of text; the limit is"
                f" {limits.max_message_chars}",
            )
        if limits.strict:
            _check_known_fields(message, Message, f"messages.{index}")


def _message_characters(message: dict[str, Any]) -> int:
    total = 0
    content = message.get("content")
    if isinstance(content, str):
        total += len(content)
    elif isinstance(content, list):
        total += sum(
            len(part["text"])
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            total += len(function["arguments"])
    return total


def _check_known_fields(item: dict[str, Any], model: type[BaseModel], where: str) -> None:
    unknown = sorted(set(item) - set(model.model_fields))
    if unknown:
        raise LimitExceeded(
            422,
            "unknown_field",
            f"{where}: unknown field {unknown[0][:64]!r} (strict mode accepts only"
            f" {', '.join(sorted(model.model_fields))})",
        )
    nested: list[tuple[str, type[BaseModel]]] = [
        ("content", ContentPart),
        ("tool_calls", ToolCall),
    ]
    for field, child_model in nested:
        value = item.get(field)
        if isinstance(value, list):
            for index, child in enumerate(value):
                if isinstance(child, dict):
                    _check_known_fields(child, child_model, f"{where}.{field}.{index}")
    function = item.get("function")
    if model is ToolCall and isinstance(function, dict):
        _check_known_fields(function, ToolCallFunction, f"{where}.function")
