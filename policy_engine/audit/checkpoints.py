"""When the store signs a checkpoint of the log's head.

Every ``every`` records or ``seconds`` seconds the store signs the current head
``(sequence, hash, time)`` with Ed25519 (:class:`~policy_engine.records.Checkpoint`). A
checkpoint proves that the log once reached that sequence with that hash: records removed
from the tail, or a chain rewritten from some record on, no longer match a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from policy_engine.records import parse_time


@dataclass(frozen=True)
class CheckpointPolicy:
    """When to sign: ``every`` records after the last checkpoint, or ``seconds`` after it."""

    every: int = 1000
    seconds: float = 60.0

    def due(self, head: int, last_sequence: int, since: str, now: datetime) -> bool:
        """Whether to sign ``head``: ``since`` is the last checkpoint's time (or the first
        record's when there is none yet)."""
        if head <= last_sequence:
            return False
        if head - last_sequence >= self.every:
            return True
        return (now - parse_time(since)).total_seconds() >= self.seconds
