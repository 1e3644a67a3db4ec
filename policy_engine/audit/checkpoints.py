"""Signed checkpoints of the audit log's head.

Every ``every`` records or ``seconds`` seconds the store signs the current head
``(sequence, hash, time)`` with Ed25519. A checkpoint proves that the log once
reached that sequence with that hash: records removed from the tail, or a chain
rewritten from some record on, no longer match a checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from policy_engine.audit.chain import canonical_json

#: Prefix of every signed message, so a checkpoint signature can never be mistaken
#: for a signature over anything else.
DOMAIN = "policy-engine audit checkpoint v1\n"


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    hash: str
    time: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.sequence, self.hash, self.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def checkpoint_message(sequence: int, head_hash: str, time: str) -> bytes:
    body = canonical_json({"hash": head_hash, "sequence": sequence, "time": time})
    return (DOMAIN + body).encode("utf-8")


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


def utc_now_text(now: datetime | None = None) -> str:
    """RFC 3339 UTC with microseconds, the format of every time in the log."""
    moment = now if now is not None else datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
