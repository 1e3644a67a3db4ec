"""The engine's plug points, as small Protocols.

Each has an explicit registry of real implementations (see ``bootstrap.py`` and
``audit/stores.py``): detection (Presidio + YAML recognizers), policy evaluation
(embedded regopy, an OPA server), audit storage (SQLite, PostgreSQL). The core
(``engine.py``) depends only on these and on the core's vocabulary (``models.py``,
``records.py``).

The audit log has two sides: :class:`AuditLog`, all the engine needs to record a
decision, and :class:`AuditReader`, what auditors' tools (API, CLI, replay, export) read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, Protocol, runtime_checkable

from policy_engine.models import DetectedSpan, PolicyResult
from policy_engine.records import AuditFilters, AuditRecord, Checkpoint


@runtime_checkable
class Detector(Protocol):
    """Finds sensitive spans in one text. Returns offsets into ``text``; never stores values."""

    def detect(self, text: str) -> list[DetectedSpan]: ...


@runtime_checkable
class StagedDetector(Protocol):
    """A detector whose work comes in stages, cheapest first, so the engine can stop early.

    ``detect_stage(stage, text, earlier)`` returns the spans of every stage up to and
    including ``stage``, given ``earlier``, what the stages before it returned for the same
    text (``[]`` for the first). ``detect(text)`` runs all stages (:func:`detect_in_stages`).
    """

    @property
    def stages(self) -> tuple[str, ...]: ...

    def detect(self, text: str) -> list[DetectedSpan]: ...

    def detect_stage(
        self, stage: str, text: str, earlier: list[DetectedSpan]
    ) -> list[DetectedSpan]: ...

    def stage_entity_types(self, stage: str) -> tuple[str, ...]:
        """The entity types that ``stage`` may report."""
        ...


def detect_in_stages(detector: StagedDetector, text: str) -> list[DetectedSpan]:
    """The spans of every stage of ``detector``, run in order."""
    spans: list[DetectedSpan] = []
    for stage in detector.stages:
        spans = detector.detect_stage(stage, text, spans)
    return spans


@runtime_checkable
class PolicyEvaluator(Protocol):
    """Evaluates ``data.segmentation.decision`` for a policy input document."""

    @property
    def revision(self) -> str: ...

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult: ...


class ShadowPolicy(Protocol):
    """A candidate policy set evaluated beside the active one (shadow mode): given a
    decision's policy input and the active result, returns what the audit record keeps
    under ``shadow`` (None: no candidate is evaluated now). Never raises, never changes the
    answer."""

    def __call__(
        self, policy_input: Mapping[str, Any], active: PolicyResult
    ) -> dict[str, Any] | None: ...


@runtime_checkable
class AuditLog(Protocol):
    """Append-only, hash-chained decision log: what the engine writes to.

    ``append`` assigns the next sequence number, sets ``prev_hash`` and ``hash``
    atomically and durably, and returns the record as stored. It raises
    :class:`policy_engine.errors.AuditError` when the record could not be stored.
    """

    def append(self, record: AuditRecord) -> AuditRecord: ...

    def head(self) -> tuple[int, str]:
        """``(sequence, hash)`` of the last append, as the store's head row records it."""
        ...

    def writable(self) -> bool: ...

    def close(self) -> None: ...


class IndexedBatch(NamedTuple):
    """Consecutive stored records with what the store keeps beside them (for verify):
    ``rows``: ``(stored sequence, record JSON text, the record's columns)``; ``sides``: for
    each side table, its ``(sequence, value)`` rows over the batch's range of sequences;
    ``last``: the last sequence of the batch (None: the log ends in it)."""

    rows: list[tuple[int, str, tuple[Any, ...]]]
    sides: tuple[frozenset[tuple[int, Any]], ...]
    last: int | None


@runtime_checkable
class AuditReader(Protocol):
    """Reads the decision log: for verification (stored rows as text), queries, exports.

    Records that cannot be read as records raise :class:`policy_engine.errors.AuditError`
    naming their sequence (``audit verify`` says what is wrong with them).
    """

    def rows(self, after_sequence: int = 0) -> Iterator[tuple[int, str]]:
        """Stored rows as ``(stored sequence, record JSON text)``, for verification."""
        ...

    def indexed_batches(self, after_sequence: int = 0) -> Iterator[IndexedBatch]:
        """Stored rows with what the store keeps beside each record for queries, in
        batches, for verification."""
        ...

    def records(self, after_sequence: int = 0) -> Iterator[AuditRecord]: ...

    def count(self) -> int: ...

    def head(self) -> tuple[int, str]: ...

    def checkpoints(self, first: int = 0, last: int | None = None) -> list[Checkpoint]: ...

    def get(self, decision_id: str) -> AuditRecord | None: ...

    def query(
        self, filters: AuditFilters, *, after_sequence: int = 0, limit: int = 100
    ) -> list[AuditRecord]:
        """Matching records in sequence order after ``after_sequence``, at most ``limit``."""
        ...

    def iter_query(self, filters: AuditFilters, batch: int = 2000) -> Iterator[AuditRecord]: ...

    def sequence_range(self, filters: AuditFilters) -> tuple[int, int] | None: ...

    def containing(self, needle: str, filters: AuditFilters) -> Iterator[AuditRecord]:
        """Records whose stored text contains ``needle`` (a keyed digest)."""
        ...

    def stats(self, filters: AuditFilters, top: int = 10) -> dict[str, Any]: ...

    def close(self) -> None: ...
