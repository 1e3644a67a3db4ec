"""Recompute the audit chain, check signed checkpoints, name the first thing that is wrong.

Chain: each record's ``hash`` must be the SHA-256 of its canonical JSON without
``hash``, its ``prev_hash`` the previous record's ``hash``, and sequences must run
1, 2, 3 … without gaps. Checkpoints: each signature must verify with a trusted public
key, the record at a checkpoint's sequence must carry the signed hash, and the log must
not end before the last checkpoint (a truncated tail). These parts check a store
(:mod:`policy_engine.audit.verify_log`, which also checks what is kept beside each
record) and an export (:mod:`policy_engine.audit.export`) alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from policy_engine.audit.chain import GENESIS_HASH, parse_record, record_hash
from policy_engine.audit.signing import signature_valid
from policy_engine.records import Checkpoint

Problem = Literal[
    "edited",
    "missing",
    "reordered",
    "broken_chain",
    "unreadable",
    "truncated",
    "forged_checkpoint",
    "checkpoint_mismatch",
    "index_mismatch",
    "column_mismatch",
    "stale_checkpoint",
]

Progress = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Mismatch:
    """What a row check found wrong beside an intact record: the problem, where (e.g.
    ``decisions.segment``) and a sentence saying what differs."""

    problem: Problem
    detail: str
    columns: tuple[str, ...] = ()


#: A check of what is kept beside a record whose chain is intact: ``(stored sequence,
#: record text, what is kept beside it)``.
RowCheck = Callable[[int, str, T], Mismatch | None]


@dataclass(frozen=True)
class VerifyWarning:
    """Something verify cannot prove wrong but an auditor should know (a failure under
    ``strict``)."""

    problem: Problem
    sequence: int
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    count: int
    sequence: int | None = None
    problem: Problem | None = None
    detail: str = ""
    last_hash: str = GENESIS_HASH
    last_sequence: int = 0
    checkpoints: int = 0
    hashes_at: Mapping[int, str] = field(default_factory=dict, repr=False, compare=False)
    #: Where a mismatch is (``decisions.segment``, ``decision_rules`` …).
    columns: tuple[str, ...] = ()
    warnings: tuple[VerifyWarning, ...] = ()

    def summary(self) -> str:
        if self.ok:
            plural = "s" if self.checkpoints != 1 else ""
            signed = (
                f", {self.checkpoints} signed checkpoint{plural} valid" if self.checkpoints else ""
            )
            lines = [f"OK: {self.count} records, hash chain intact{signed}"]
            lines += [
                f"warning at sequence {w.sequence}: {w.problem}: {w.detail}" for w in self.warnings
            ]
            return "\n".join(lines)
        return f"FAILED at sequence {self.sequence}: {self.problem}: {self.detail}"

    def strict(self) -> VerifyReport:
        """This report with its first warning as the failure (``audit verify --strict``)."""
        if not self.ok or not self.warnings:
            return self
        first = self.warnings[0]
        return replace(
            self, ok=False, sequence=first.sequence, problem=first.problem, detail=first.detail
        )


def fast_hash(text: str, claimed_hash: str) -> str:
    """SHA-256 of the stored canonical text with its ``hash`` member taken out.

    Equal to :func:`record_hash` whenever the text is canonical JSON, at a fraction of
    the cost; a mismatch falls back to the full recomputation.
    """
    body = text.replace(f',"hash":"{claimed_hash}"', "", 1)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _fast_claims(text: str) -> tuple[int, str, str] | None:
    """``(sequence, prev_hash, hash)`` read from canonical text without parsing it.

    Top-level keys are sorted and no nested object of a record has these keys, so the
    last occurrence of each is the top-level one. Only a shortcut: whatever it cannot
    read, or whatever does not then check out, goes through the full parse.
    """
    at_sequence = text.rfind('"sequence":')
    at_prev = text.rfind('"prev_hash":"')
    at_hash = text.rfind(',"hash":"')
    if at_sequence < 0 or at_prev < 0 or at_hash < 0:
        return None
    digits_start = at_sequence + 11
    digits_end = digits_start
    while digits_end < len(text) and text[digits_end].isdigit():
        digits_end += 1
    prev = text[at_prev + 13 : at_prev + 77]
    claimed = text[at_hash + 9 : at_hash + 73]
    if digits_end == digits_start or text[at_prev + 77 : at_prev + 78] != '"':
        return None
    if text[at_hash + 73 : at_hash + 74] != '"':
        return None
    return int(text[digits_start:digits_end]), prev, claimed


def _missing(first: int, next_present: int) -> str:
    if next_present == first + 1:
        return f"record {first} is missing"
    return f"records {first}..{next_present - 1} are missing"


def check_record(
    stored_sequence: int, text: str, expected_sequence: int, prev_hash: str, count: int
) -> tuple[str, VerifyReport | None]:
    """Full check of one row: its hash, or the report naming what is wrong."""
    try:
        record = parse_record(text)
        claimed_sequence = int(record["sequence"])
        claimed_prev = str(record["prev_hash"])
        claimed_hash = str(record["hash"])
    except (ValueError, KeyError, TypeError):
        return "", VerifyReport(
            False, count, stored_sequence, "unreadable", "the record is not a valid record"
        )
    if stored_sequence != expected_sequence:
        missing = _missing(expected_sequence, stored_sequence)
        return "", VerifyReport(False, count, expected_sequence, "missing", missing)
    if claimed_sequence != stored_sequence:
        return "", VerifyReport(
            False,
            count,
            stored_sequence,
            "reordered",
            f"position {stored_sequence} holds record {claimed_sequence}",
        )
    if fast_hash(text, claimed_hash) != claimed_hash and record_hash(record) != claimed_hash:
        return "", VerifyReport(
            False, count, stored_sequence, "edited", "the record's content does not match its hash"
        )
    if claimed_prev != prev_hash:
        return "", VerifyReport(
            False,
            count,
            stored_sequence,
            "broken_chain",
            "prev_hash does not match the previous record's hash"
            " (a record before it was replaced or rewritten)",
        )
    return claimed_hash, None


def verify_rows(
    rows: Iterable[tuple[int, str]],
    *,
    remember: Container[int] = (),
    progress: Progress | None = None,
    first_sequence: int = 1,
    prev_hash: str = GENESIS_HASH,
) -> VerifyReport:
    """Check rows ``(stored sequence, record JSON)`` given in stored sequence order.

    ``remember``: sequences whose hashes the report keeps (for checkpoint checks);
    ``progress`` is called with the count every 10,000 records. An excerpt of the log
    (an export) starts at ``first_sequence`` after a record whose hash is ``prev_hash``.
    """
    return verify_checked_rows(
        ((sequence, text, None) for sequence, text in rows),
        remember=remember,
        progress=progress,
        first_sequence=first_sequence,
        prev_hash=prev_hash,
    )


def verify_checked_rows(
    rows: Iterable[tuple[int, str, T]],
    *,
    check: RowCheck[T] | None = None,
    remember: Container[int] = (),
    progress: Progress | None = None,
    first_sequence: int = 1,
    prev_hash: str = GENESIS_HASH,
) -> VerifyReport:
    """:func:`verify_rows` for rows that carry what is kept beside each record
    ``(stored sequence, record JSON, kept)``: ``check`` judges ``kept`` once the record's
    place in the chain is proven."""
    expected_sequence = first_sequence
    count = 0
    kept: dict[int, str] = {}
    for stored_sequence, text, beside in rows:
        claims = _fast_claims(text)
        if (
            claims is not None
            and stored_sequence == expected_sequence == claims[0]
            and claims[1] == prev_hash
            and fast_hash(text, claims[2]) == claims[2]
        ):
            claimed_hash = claims[2]
        else:
            claimed_hash, problem = check_record(
                stored_sequence, text, expected_sequence, prev_hash, count
            )
            if problem is not None:
                return problem
        if check is not None:
            found = check(stored_sequence, text, beside)
            if found is not None:
                return _mismatched(count, stored_sequence, found, prev_hash, expected_sequence)
        if stored_sequence in remember:
            kept[stored_sequence] = claimed_hash
        prev_hash = claimed_hash
        expected_sequence += 1
        count += 1
        if progress is not None and count % 10_000 == 0:
            progress(count)
    return VerifyReport(
        True, count, last_hash=prev_hash, last_sequence=expected_sequence - 1, hashes_at=kept
    )


def _mismatched(
    count: int, sequence: int, found: Mismatch, last_hash: str, expected_sequence: int
) -> VerifyReport:
    return VerifyReport(
        False,
        count,
        sequence,
        found.problem,
        found.detail,
        last_hash=last_hash,
        last_sequence=expected_sequence - 1,
        columns=found.columns,
    )


def verify_checkpoints(
    chain: VerifyReport,
    checkpoints: Iterable[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    head_sequence: int | None = None,
) -> VerifyReport:
    """Check signed checkpoints against an intact chain (``chain.ok``)."""
    checked = 0
    for checkpoint in checkpoints:
        key = public_keys.get(checkpoint.key_id)
        where = f"checkpoint {checkpoint.time}"
        if key is None:
            known = ", ".join(sorted(public_keys)) or "none"
            return _failed(
                chain,
                checkpoint.sequence,
                "forged_checkpoint",
                f"{where} claims key {checkpoint.key_id}, which is not a trusted key"
                f" (trusted: {known})",
            )
        if not signature_valid(key, checkpoint.message(), checkpoint.signature):
            return _failed(
                chain,
                checkpoint.sequence,
                "forged_checkpoint",
                f"{where}: the signature does not verify with {checkpoint.key_id}"
                " (the checkpoint was altered or not signed by the service)",
            )
        end = chain.last_sequence
        if checkpoint.sequence > end:
            return _failed(
                chain,
                checkpoint.sequence,
                "truncated",
                f"a signed checkpoint covers records up to {checkpoint.sequence} but the log"
                f" ends at {end}: records {end + 1}..{checkpoint.sequence} were removed",
            )
        if chain.hashes_at.get(checkpoint.sequence) != checkpoint.hash:
            return _failed(
                chain,
                checkpoint.sequence,
                "checkpoint_mismatch",
                f"the record's hash differs from the one signed at {checkpoint.time}"
                " (the chain was rewritten up to here)",
            )
        checked += 1
    end = chain.last_sequence
    if head_sequence is not None and head_sequence > end:
        return _failed(
            chain,
            head_sequence,
            "truncated",
            f"the store's head row says {head_sequence} records were appended but the log"
            f" ends at {end}: records {end + 1}..{head_sequence} were removed",
        )
    return VerifyReport(
        True,
        chain.count,
        last_hash=chain.last_hash,
        last_sequence=end,
        checkpoints=checked,
        hashes_at={},
    )


def _failed(chain: VerifyReport, sequence: int, problem: Problem, detail: str) -> VerifyReport:
    return VerifyReport(
        False,
        chain.count,
        sequence,
        problem,
        detail,
        last_hash=chain.last_hash,
        last_sequence=chain.last_sequence,
    )
