"""Sticky sessions: a conversation stays on the endpoint it started on while the decision
of each turn still allows it.

Conversation ids are kept as digests, in a bounded LRU per process (several workers behind
a load balancer each keep their own: route a conversation to one worker, or accept that a
turn served elsewhere may start it afresh on the cheapest allowed endpoint).
"""

from __future__ import annotations

from policy_engine.lru import DigestLRU, content_key

_DOMAIN = "policy-engine conversation"


class Conversations:
    """The endpoint each recent conversation answered from."""

    def __init__(self, max_entries: int) -> None:
        self._endpoints: DigestLRU[str] = DigestLRU(max_entries)

    def endpoint(self, conversation: str | None) -> str | None:
        if conversation is None:
            return None
        return self._endpoints.get(content_key(_DOMAIN, conversation))

    def remember(self, conversation: str | None, endpoint: str) -> None:
        if conversation is not None:
            self._endpoints.put(content_key(_DOMAIN, conversation), endpoint)
