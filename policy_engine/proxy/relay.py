"""Relaying an upstream's server-sent events to the client, event by event.

Each complete event is passed on as soon as it arrived. Events are only decoded when they
must be: to restore placeholders (masking), to read the usage of the final chunk, or to
drop that chunk when the client did not ask for it (the proxy always asks upstream, to
record usage).
"""

from __future__ import annotations

import json
from typing import Any

from policy_engine.proxy.delivery import parse_usage
from policy_engine.proxy.split_restore import SplitRestorer
from policy_engine.records import Usage

DONE = b"[DONE]"


class EventRelay:
    """Turns upstream bytes into the events the client gets; keeps the usage seen."""

    def __init__(self, restorer: SplitRestorer | None, *, wants_usage: bool) -> None:
        self.restorer = restorer
        self.wants_usage = wants_usage
        self.usage: Usage | None = None
        self._buffer = b""
        self._last: dict[str, Any] | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """The complete events in what arrived so far, ready to send."""
        self._buffer += data.replace(b"\r\n", b"\n")
        out: list[bytes] = []
        while b"\n\n" in self._buffer:
            event, self._buffer = self._buffer.split(b"\n\n", 1)
            out.extend(self._event(event))
        return out

    def finish(self) -> list[bytes]:
        """At the end of the upstream's stream: a last incomplete event, and the text still
        held back (when no ``[DONE]`` came to carry it)."""
        out = self._event(self._buffer) if self._buffer.strip() else []
        self._buffer = b""
        return out + self._flushed()

    def _event(self, event: bytes) -> list[bytes]:
        data = b"\n".join(
            line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
        )
        if not data:
            return [event + b"\n\n"]  # a comment or another field: as it came
        if data.strip() == DONE:
            return [*self._flushed(), b"data: [DONE]\n\n"]
        needs_decoding = self.restorer is not None or b'"usage"' in data
        if not needs_decoding:
            return [event + b"\n\n"]
        try:
            chunk = json.loads(data)
        except ValueError:
            return [event + b"\n\n"]
        if not isinstance(chunk, dict):
            return [event + b"\n\n"]
        self._last = chunk
        if not self._take_usage(chunk):
            return []
        if self.restorer is not None:
            self._restore(chunk, self.restorer)
        return [_encode(chunk)]

    def _take_usage(self, chunk: dict[str, Any]) -> bool:
        """Record the chunk's usage; whether the chunk goes on to the client."""
        self.usage = parse_usage(chunk.get("usage")) or self.usage
        if self.wants_usage or "usage" not in chunk:
            return True
        if not chunk.get("choices"):
            return False  # the usage chunk the client did not ask for
        del chunk["usage"]
        return True

    def _restore(self, chunk: dict[str, Any], restorer: SplitRestorer) -> None:
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or not isinstance(choice.get("delta"), dict):
                continue
            index, delta = choice.get("index", 0), choice["delta"]
            for field, holder, key in _texts(delta):
                holder[key] = restorer.feed((index, *field), holder[key])
            if choice.get("finish_reason") is not None:
                for stream in [s for s in restorer.pending() if s[0] == index]:
                    _append(delta, stream[1:], restorer.flush(stream))

    def _flushed(self) -> list[bytes]:
        restorer = self.restorer
        if restorer is None or not restorer.pending():
            return []
        chunk = {
            k: v for k, v in (self._last or {}).items() if k in ("id", "object", "created", "model")
        }
        choices: dict[Any, dict[str, Any]] = {}
        for stream in restorer.pending():
            index = stream[0]
            delta = choices.setdefault(index, {"index": index, "delta": {}, "finish_reason": None})
            _append(delta["delta"], stream[1:], restorer.flush(stream))
        chunk["choices"] = list(choices.values())
        return [_encode(chunk)]


def _texts(delta: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, Any], str]]:
    """The streamed texts of a delta: ``(field path, object holding it, key)``."""
    found: list[tuple[tuple[Any, ...], dict[str, Any], str]] = []
    for key in ("content", "refusal"):
        if isinstance(delta.get(key), str):
            found.append(((key,), delta, key))
    for call in delta.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            found.append((("tool", call.get("index", 0)), function, "arguments"))
    return found


def _append(delta: dict[str, Any], field: tuple[Any, ...], text: str) -> None:
    """Add held-back ``text`` to ``delta`` at ``field`` (a text key, or a tool call)."""
    if not text:
        return
    if field[0] != "tool":
        delta[field[0]] = (delta.get(field[0]) or "") + text
        return
    calls = delta.setdefault("tool_calls", [])
    call = next((c for c in calls if c.get("index", 0) == field[1]), None)
    if call is None:
        call = {"index": field[1], "function": {"arguments": ""}}
        calls.append(call)
    function = call.setdefault("function", {})
    function["arguments"] = (function.get("arguments") or "") + text


def _encode(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, ensure_ascii=False).encode("utf-8") + b"\n\n"
