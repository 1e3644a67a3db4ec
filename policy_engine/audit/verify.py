"""Recompute the audit chain and name the first record that does not match."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from policy_engine.audit.chain import GENESIS_HASH, record_hash

Problem = Literal["edited", "missing", "reordered", "broken_chain", "unreadable"]


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    count: int
    sequence: int | None = None
    problem: Problem | None = None
    detail: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"OK: {self.count} records, hash chain intact"
        return f"FAILED at sequence {self.sequence}: {self.problem}: {self.detail}"


def verify_rows(rows: Iterable[tuple[int, str]]) -> VerifyReport:
    """Check rows ``(stored sequence, record JSON)`` given in stored sequence order."""
    expected_sequence = 1
    prev_hash = GENESIS_HASH
    count = 0
    for stored_sequence, text in rows:
        try:
            record = json.loads(text)
            claimed_sequence = int(record["sequence"])
            claimed_prev = str(record["prev_hash"])
            claimed_hash = str(record["hash"])
        except (ValueError, KeyError, TypeError):
            return VerifyReport(
                False, count, stored_sequence, "unreadable", "the record is not a valid record"
            )
        if stored_sequence != expected_sequence:
            missing = (
                f"record {expected_sequence} is missing"
                if stored_sequence == expected_sequence + 1
                else f"records {expected_sequence}..{stored_sequence - 1} are missing"
            )
            return VerifyReport(False, count, expected_sequence, "missing", missing)
        if claimed_sequence != stored_sequence:
            return VerifyReport(
                False,
                count,
                stored_sequence,
                "reordered",
                f"position {stored_sequence} holds record {claimed_sequence}",
            )
        if record_hash(record) != claimed_hash:
            return VerifyReport(
                False,
                count,
                stored_sequence,
                "edited",
                "the record's content does not match its hash",
            )
        if claimed_prev != prev_hash:
            return VerifyReport(
                False,
                count,
                stored_sequence,
                "broken_chain",
                "prev_hash does not match the previous record's hash"
                " (a record before it was replaced or rewritten)",
            )
        prev_hash = claimed_hash
        expected_sequence += 1
        count += 1
    return VerifyReport(True, count)
