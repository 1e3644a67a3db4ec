"""A bounded, thread-safe LRU keyed by content digests: the finding cache and the policy
result cache are both one, so neither keeps the text or input it was asked about."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


def content_key(revision: str, text: str) -> bytes:
    """The cache key of ``text`` under ``revision`` (a digest: the text is not kept)."""
    digest = hashlib.blake2b(revision.encode(), digest_size=20)
    digest.update(b"\x00" + text.encode("utf-8", "surrogatepass"))
    return digest.digest()


class DigestLRU(Generic[V]):
    """At most ``max_entries`` values by digest, least recently used dropped first; counts
    its hits and misses. With ``max_entries`` 0 or less it keeps nothing."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: bytes, value: V) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
