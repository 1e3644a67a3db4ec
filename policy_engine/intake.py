"""What a request must be before it is decided: shape limits, validation, strict mode.

One place for every entry point: the HTTP service and the Python API
(:meth:`Engine.decide <policy_engine.engine.Engine.decide>`) take a request through
:func:`parse_request` with the same :class:`RequestLimits` (``PE_MAX_*``,
``PE_STRICT_MODE``). Each violation is a :class:`~policy_engine.errors.LimitExceeded`
carrying the status, error code and a message that names the limit and where it was
exceeded, never a value:

* nesting deeper than ``max_nesting_depth`` → 400 ``nesting_too_deep``;
* more than ``max_messages`` chat messages → 413 ``too_many_messages``;
* ``content``, or the texts of one message (:func:`~policy_engine.chat.read_message`,
  exactly what is scanned), longer than ``max_message_chars`` → 413 ``content_too_long``;
* in strict mode, a field the OpenAI and Anthropic chat formats do not define
  (:data:`~policy_engine.chat.MESSAGE_FIELDS`, :data:`~policy_engine.chat.PART_FIELDS`),
  or a part of a type they do not define → 422 ``unknown_field``, with ``details`` naming
  each (the request and its context reject unknown fields always).

An invalid request raises :class:`~policy_engine.errors.RequestError` with the fields at
fault (:mod:`policy_engine.validation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from policy_engine.chat import read_message, unknown_fields
from policy_engine.errors import LimitExceeded, RequestError
from policy_engine.models import DecideRequest
from policy_engine.validation import describe_validation_error, validation_details

__all__ = ["LimitExceeded", "RequestLimits", "check_limits", "nesting_depth", "parse_request"]


@dataclass(frozen=True)
class RequestLimits:
    max_messages: int = 256
    max_nesting_depth: int = 32
    max_message_chars: int = 262_144
    strict: bool = False


def parse_request(
    request: DecideRequest | Mapping[str, Any], limits: RequestLimits | None = None
) -> DecideRequest:
    """``request`` checked against ``limits`` and validated.

    Raises :class:`LimitExceeded` for the first limit it breaks and
    :class:`RequestError` (with ``details``) when it is not a valid request.
    """
    limits = limits if limits is not None else RequestLimits()
    raw = request.model_dump(exclude_none=True) if isinstance(request, DecideRequest) else request
    check_limits(raw, limits)
    if isinstance(request, DecideRequest):
        return request
    try:
        return DecideRequest.model_validate(request)
    except ValidationError as exc:
        details = validation_details(exc, DecideRequest)
        raise RequestError(describe_validation_error(details), details) from None


_SCALARS = frozenset({str, int, float, bool, type(None)})


def nesting_depth(document: Any) -> int:
    """How deeply objects and arrays nest (a scalar is 0, ``{}`` is 1); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        kind = type(node)
        if kind is dict:
            children: Any = node.values()
        elif kind is list:
            children = node
        elif kind not in _SCALARS and isinstance(node, Mapping):
            children = node.values()
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def check_limits(body: Mapping[str, Any], limits: RequestLimits) -> None:
    """Raise :class:`LimitExceeded` for the first limit ``body`` (JSON data) breaks."""
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
        if not isinstance(message, Mapping):
            continue
        characters = read_message(message).characters()
        if characters > limits.max_message_chars:
            raise LimitExceeded(
                413,
                "content_too_long",
                f"messages.{index} has {characters} characters of text; the limit is"
                f" {limits.max_message_chars}",
            )
        if limits.strict:
            _check_known_fields(message, index)


def _check_known_fields(message: Mapping[str, Any], index: int) -> None:
    unknown = unknown_fields(message)
    if not unknown:
        return
    details = [
        {
            "field": f"messages.{index}.{path}",
            "problem": f"unknown field; strict mode accepts only {', '.join(allowed)}",
        }
        for path, allowed in unknown
    ]
    first = details[0]
    raise LimitExceeded(422, "unknown_field", f"{first['field']}: {first['problem']}", details)
