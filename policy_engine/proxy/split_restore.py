"""Restoring placeholders in text that arrives in pieces (a streamed answer).

A placeholder may be cut anywhere between two chunks. Each stream of text (one per choice
and field) is restored as it comes; only a tail that could still become a placeholder of
this request (it starts with ``<`` and is a proper prefix of one) is held back, and sent
with the next piece or when the stream of text ends.
"""

from __future__ import annotations

from typing import Any

from policy_engine.proxy.masking import Masking

#: One stream of text: ``(choice index, field ...)``.
StreamKey = tuple[Any, ...]


class SplitRestorer:
    """Restores the placeholders of one request in several streams of text."""

    def __init__(self, masking: Masking) -> None:
        self.masking = masking
        self._prefixes = {name[:n] for name in masking.values for n in range(1, len(name))}
        self._longest = max((len(name) for name in masking.values), default=0)
        self._pending: dict[StreamKey, str] = {}

    def feed(self, stream: StreamKey, text: str) -> str:
        """What of ``text`` (after what was held back) can be sent now, restored."""
        whole = self._pending.pop(stream, "") + text
        cut = self._held_from(whole)
        if cut < len(whole):
            self._pending[stream] = whole[cut:]
        return self.masking.restore(whole[:cut])

    def flush(self, stream: StreamKey) -> str:
        """What was held back for ``stream`` (the text ended: it was no placeholder)."""
        return self.masking.restore(self._pending.pop(stream, ""))

    def pending(self) -> list[StreamKey]:
        return list(self._pending)

    def _held_from(self, text: str) -> int:
        """The start of the tail that may become a placeholder (``len(text)``: none)."""
        start = max(0, len(text) - self._longest + 1)
        at = text.find("<", start)
        while at != -1:
            if text[at:] in self._prefixes:
                return at
            at = text.find("<", at + 1)
        return len(text)
