"""`audit verify` on a store: the chain, what is kept beside each record, checkpoints.

Besides the chain (:mod:`policy_engine.audit.verify`), every column of ``decisions`` and
every side-table row that queries read must say what the record says: verify derives them
from the record with :func:`~policy_engine.audit.columns.indexed_columns`, the function
the store wrote them with, and names the first record (and each column) that differs. It
decodes from each record only the fields that function reads and the chain's (msgspec),
and reads the side tables as one set of rows per batch (:meth:`~policy_engine.ports.
AuditReader.indexed_batches`), which keeps verify fast. Last, a log that lacks a
checkpoint the service would have signed gets a warning
(:class:`~policy_engine.audit.checkpoints.SigningWatch`), a failure under ``strict``.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from policy_engine.audit.chain import GENESIS_HASH, parse_record
from policy_engine.audit.checkpoints import CheckpointPolicy, SigningWatch
from policy_engine.audit.columns import (
    DECISION_COLUMNS,
    SIDE_TABLES,
    IndexedColumns,
    RecordFields,
    column_differences,
    indexed_columns,
    of_document,
    orphan_differences,
    side_differences,
)
from policy_engine.audit.verify import (
    Problem,
    Progress,
    VerifyReport,
    VerifyWarning,
    check_record,
    fast_hash,
    verify_checkpoints,
)
from policy_engine.ports import AuditReader, IndexedBatch


class _ChainedFields(RecordFields):
    """What verify decodes from a record: what the columns derive from, and the chain."""

    sequence: int
    prev_hash: str


#: Decodes from a record's JSON only what verify reads (the rest is skipped, not built).
FIELDS_DECODER = msgspec.json.Decoder(_ChainedFields)
_WIDTH = len(DECISION_COLUMNS)


def verify_store(
    store: AuditReader,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    progress: Progress | None = None,
    policy: CheckpointPolicy | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """The chain and what is kept beside each record, then every checkpoint and the head
    row; a warning when the log lacks a checkpoint the service would have signed under
    ``policy`` (the service's ``PE_CHECKPOINT_EVERY`` and ``PE_CHECKPOINT_SECONDS``; its
    clock unless ``now``). The head row and the checkpoints are read first: records
    appended while verify runs are checked but not judged for missing checkpoints."""
    policy = policy if policy is not None else CheckpointPolicy()
    now = now if now is not None else policy.clock()
    checkpoints = store.checkpoints()
    head_sequence, _ = store.head()
    walk = _Walk(
        SigningWatch(policy, checkpoints[-1] if checkpoints else None, head_sequence),
        {c.sequence for c in checkpoints},
        progress,
    )
    chain = walk.batches(store.indexed_batches())
    if not chain.ok:
        return chain
    report = verify_checkpoints(chain, checkpoints, public_keys, head_sequence=head_sequence)
    overdue = walk.watch.overdue(now) if report.ok else None
    if overdue is None:
        return report
    return replace(report, warnings=(VerifyWarning("stale_checkpoint", *overdue),))


@dataclass
class _Walk:
    """The log read so far: where the chain stands, and the side-table rows the records
    of the current batch call for."""

    watch: SigningWatch
    remember: Container[int]
    progress: Progress | None
    expected: int = 1
    prev_hash: str = GENESIS_HASH
    count: int = 0
    kept: dict[int, str] = field(default_factory=dict)
    batch_first: int = 1
    sides: tuple[set[tuple[int, Any]], ...] = ()

    def batches(self, batches: Iterable[IndexedBatch]) -> VerifyReport:
        """Walk the batches; the first problem, or the intact chain. (The loop keeps its
        state in local variables, for speed, and hands it back on the slow paths.)"""
        decode, watch, remember, kept = FIELDS_DECODER.decode, self.watch, self.remember, self.kept
        after, progress = watch.after, self.progress
        expected, prev_hash, count = self.expected, self.prev_hash, self.count
        for batch in batches:
            self.batch_first = expected
            self.sides = sides = tuple(set[tuple[int, Any]]() for _ in SIDE_TABLES)
            for sequence, text, stored in batch.rows:
                try:
                    fields: _ChainedFields | None = decode(text)
                except msgspec.DecodeError:
                    fields = None
                if (
                    fields is not None
                    and sequence == expected == fields["sequence"]
                    and fields["prev_hash"] == prev_hash
                    and fast_hash(text, claimed := fields["hash"]) == claimed
                ):
                    columns = indexed_columns(fields)
                else:
                    self.expected, self.prev_hash, self.count = expected, prev_hash, count
                    checked = self.closely(sequence, text, batch)
                    if isinstance(checked, VerifyReport):
                        return checked
                    claimed, columns = checked
                if sequence > after or watch.first_time is None:
                    watch.saw(sequence, columns.time)
                if columns[:_WIDTH] != stored:
                    self.expected, self.prev_hash, self.count = expected, prev_hash, count
                    return self.side_problem(batch, before=sequence) or self.mismatch(
                        sequence, column_differences(stored, columns[:_WIDTH]), batch, columns
                    )
                for pairs, values in zip(sides, _side_values(columns), strict=True):
                    for value in values:
                        pairs.add((sequence, value))
                if sequence in remember:
                    kept[sequence] = claimed
                prev_hash = claimed
                expected += 1
                count += 1
                if progress is not None and count % 10_000 == 0:
                    progress(count)
            self.expected, self.prev_hash, self.count = expected, prev_hash, count
            problem = self.side_problem(batch, before=None)
            if problem is not None:
                return problem
        return VerifyReport(
            True, count, last_hash=prev_hash, last_sequence=expected - 1, hashes_at=kept
        )

    def closely(
        self, sequence: int, text: str, batch: IndexedBatch
    ) -> tuple[str, IndexedColumns] | VerifyReport:
        """A row the fast path did not pass: its hash and columns, or what is wrong with it
        (an earlier side-table problem first)."""
        claimed_hash, problem = check_record(
            sequence, text, self.expected, self.prev_hash, self.count
        )
        if problem is not None:
            return self.side_problem(batch, before=problem.sequence) or problem
        try:
            return claimed_hash, of_document(parse_record(text))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            lacks = f" ({exc})" if isinstance(exc, KeyError) else ""
            found = self.failed(sequence, "unreadable", f"the record lacks a field{lacks}")
            return self.side_problem(batch, before=sequence) or found

    def side_problem(self, batch: IndexedBatch, before: int | None) -> VerifyReport | None:
        """The first record (before ``before``) whose side-table rows differ from what its
        record calls for, or the first sequence holding side-table rows but no record."""
        wrong = {
            sequence
            for stored, expected in zip(batch.sides, self.sides, strict=True)
            if stored != expected
            for sequence, _ in stored ^ expected
            if before is None or sequence < before
        }
        if not wrong:
            return None
        sequence = min(wrong)
        if self.batch_first <= sequence < self.expected:
            return self.mismatch(sequence, [], batch, None)
        orphans = orphan_differences(sequence, _values_at(batch.sides, sequence))
        detail = "; ".join(f"{where} {what}" for where, what in orphans)
        return replace(
            self.failed(sequence, "missing", f"record {sequence} is missing; {detail}"),
            columns=tuple(where for where, _ in orphans),
        )

    def mismatch(
        self,
        sequence: int,
        columns: list[tuple[str, str]],
        batch: IndexedBatch,
        expected: IndexedColumns | None,
    ) -> VerifyReport:
        """``index_mismatch`` at ``sequence``: ``columns`` of ``decisions`` and every side
        table whose rows differ."""
        want: Sequence[Sequence[Any]] = (
            _side_values(expected) if expected is not None else _values_at(self.sides, sequence)
        )
        found = columns + side_differences(_values_at(batch.sides, sequence), want)
        detail = "; ".join(f"{where} {what}" for where, what in found)
        return replace(
            self.failed(
                sequence, "index_mismatch", f"{detail} (queries filtering on it answer wrongly)"
            ),
            columns=tuple(where for where, _ in found),
        )

    def failed(self, sequence: int, problem: Problem, detail: str) -> VerifyReport:
        return VerifyReport(
            False,
            self.count,
            sequence,
            problem,
            detail,
            last_hash=self.prev_hash,
            last_sequence=self.expected - 1,
        )


def _side_values(columns: IndexedColumns) -> tuple[tuple[str, ...], ...]:
    """The side tables' values among ``columns``, in :data:`SIDE_TABLES` order (the last
    fields of :class:`~policy_engine.audit.columns.IndexedColumns`)."""
    return cast(tuple[tuple[str, ...], ...], columns[_WIDTH:])


def _values_at(sides: Iterable[Iterable[tuple[int, Any]]], sequence: int) -> list[tuple[Any, ...]]:
    """The side-table values of ``sequence``, one sorted tuple per side table."""
    return [tuple(sorted((v for s, v in pairs if s == sequence), key=repr)) for pairs in sides]
