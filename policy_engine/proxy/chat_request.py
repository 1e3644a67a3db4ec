"""A chat completion request as the proxy takes it in: the OpenAI body, what the engine is
asked to decide on, and the body each upstream is sent.

The request's context for the decision comes from the body: ``model`` (a catalog endpoint
id is ``context.requested_endpoint``; ``auto`` asks for none), ``max_completion_tokens`` or
``max_tokens`` (``context.max_output_tokens``), ``user`` (``context.user``) and the
``metadata`` keys of :data:`CONTEXT_KEYS`. The conversation id for sticky sessions and
consistent placeholders is the ``x-policy-engine-conversation-id`` header, else
``metadata.conversation_id``, else ``user``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy_engine.chat import fields_text
from policy_engine.models import TIERS
from policy_engine.proxy.openai_errors import ChatRequestError

#: ``model`` that asks for the cheapest allowed endpoint.
AUTO = "auto"
CONVERSATION_HEADER = "x-policy-engine-conversation-id"
#: ``metadata`` keys that are the decision's context (not forwarded upstream).
CONTEXT_KEYS = ("tenant", "application", "purpose", "declared_classification", "tier")
_OWN_METADATA = frozenset((*CONTEXT_KEYS, "conversation_id"))
#: Body fields never forwarded: replaced (model, messages) or kept here (user, metadata).
_NOT_FORWARDED = frozenset({"model", "messages", "user", "metadata"})
#: Fields of the upstream body the proxy sets itself.
_REPLACED = frozenset({"model", "messages"})


@dataclass(frozen=True)
class ChatCall:
    """One validated chat completion request."""

    body: dict[str, Any]
    model: str
    stream: bool
    #: Whether the client asked for the usage chunk of a stream (it is always asked for
    #: upstream, to record usage, and passed on only when the client asked).
    wants_usage: bool
    context: dict[str, Any]
    conversation: str | None

    @property
    def requested_endpoint(self) -> str | None:
        return None if self.model == AUTO else self.model

    def decide_request(self) -> dict[str, Any]:
        """What the engine decides on: the messages, and every other field forwarded
        upstream (``tools``, ``response_format``, ``system``, ``stop``, unknown ones …) as
        one more message after the last, its content a line ``field: value`` each
        (:func:`~policy_engine.chat.fields_text`): what reaches a model is scanned, all of
        it; and the context."""
        messages = list(self.body["messages"])
        beside = {k: v for k, v in self.upstream_body("", []).items() if k not in _REPLACED}
        text = fields_text(beside)
        if text:
            messages.append({"role": "user", "content": text})
        return {"messages": messages, "context": self.context}

    def upstream_body(self, model: str, messages: list[Any]) -> dict[str, Any]:
        """The body sent upstream: the client's, with the upstream ``model``, the (masked)
        ``messages``, the usage chunk asked for when streaming, and neither ``user`` nor
        the proxy's own ``metadata`` keys."""
        body = {k: v for k, v in self.body.items() if k not in _NOT_FORWARDED}
        metadata = {
            k: v for k, v in (self.body.get("metadata") or {}).items() if k not in _OWN_METADATA
        }
        if metadata:
            body["metadata"] = metadata
        body["model"] = model
        body["messages"] = messages
        if self.stream:
            options = self.body.get("stream_options")
            body["stream_options"] = {**(options if isinstance(options, dict) else {})}
            body["stream_options"]["include_usage"] = True
        return body


def parse_chat_call(body: dict[str, Any], headers: Mapping[str, str]) -> ChatCall:
    """``body`` as a :class:`ChatCall`; :class:`ChatRequestError` naming the field at fault."""
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("model", f"give a catalog endpoint id or {AUTO!r} (GET /v1/models lists them)")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages", "must be a non-empty list of chat messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("stream", "must be true or false")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _bad("stream_options", "must be an object")
    metadata = body.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values())
    ):
        raise _bad("metadata", "must be an object of strings")
    metadata = metadata or {}
    context: dict[str, Any] = {k: metadata[k] for k in CONTEXT_KEYS if k in metadata}
    if "tier" in context and context["tier"] not in TIERS:
        raise _bad("metadata.tier", "must be one of " + ", ".join(TIERS))
    if model != AUTO:
        context["requested_endpoint"] = model
    tokens = _max_tokens(body)
    if tokens is not None:
        context["max_output_tokens"] = tokens
    user = body.get("user")
    if user is not None:
        if not isinstance(user, str):
            raise _bad("user", "must be a string")
        context["user"] = user
    conversation = headers.get(CONVERSATION_HEADER) or metadata.get("conversation_id") or user
    return ChatCall(
        body=body,
        model=model,
        stream=stream,
        wants_usage=bool((options or {}).get("include_usage")),
        context=context,
        conversation=conversation or None,
    )


def _max_tokens(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _bad(name, "must be a non-negative integer")
        return value
    return None


def _bad(field: str, problem: str) -> ChatRequestError:
    return ChatRequestError(f"{field}: {problem}", [{"field": field, "problem": problem}])
