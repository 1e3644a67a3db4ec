"""What the SQLite and PostgreSQL stores share: append, checkpoints, queries, migrating.

A subclass supplies connections (:meth:`SqlAuditStore._transaction`) and its
dialect's first migration; the SQL here is written once, with ``?`` placeholders,
and runs unchanged on both databases.

Tables (:mod:`policy_engine.audit.schema`): ``decisions`` (one row per record: the
canonical JSON in ``record``, columns beside it), ``decision_rules`` and
``decision_entities`` (rule ids and entity types of each record, for filters) — all
that is kept beside a record is derived by
:func:`~policy_engine.audit.columns.indexed_columns` —, ``checkpoints`` (signed heads),
``audit_head`` (one row: the last sequence and hash, locked by every append so that
concurrent writers form one total order), ``schema_version``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from pydantic import ValidationError

from policy_engine.audit.chain import GENESIS_HASH, seal
from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.filters import where_clause
from policy_engine.audit.index_reader import read_batch
from policy_engine.audit.schema import Migration, Tx, insert_record
from policy_engine.audit.signing import Signer
from policy_engine.errors import AuditError
from policy_engine.logs import get_logger
from policy_engine.ports import IndexedBatch
from policy_engine.records import (
    AuditFilters,
    AuditRecord,
    Checkpoint,
    parse_audit_record,
    utc_text,
)

log = get_logger("policy_engine.audit")


class SqlAuditStore:
    """The shared half of both stores. See the module docstring for the tables."""

    #: Appended to the head query inside an append (``FOR UPDATE`` where it is needed).
    lock_head_suffix = ""

    def __init__(
        self,
        *,
        name: str,
        signer: Signer | None = None,
        checkpoint_policy: CheckpointPolicy | None = None,
    ) -> None:
        self.name = name
        self.signer = signer
        self.checkpoint_policy = checkpoint_policy or CheckpointPolicy()
        self._timer_stop = threading.Event()
        self._timer: threading.Thread | None = None

    def start_checkpoint_timer(self) -> None:
        """Sign the head every ``checkpoint_policy.seconds`` even when no append comes."""
        if self.signer is None or self._timer is not None:
            return
        self._timer = threading.Thread(target=self._tick, name="audit-checkpoints", daemon=True)
        self._timer.start()

    def _tick(self) -> None:
        interval = self.checkpoint_policy.timer_interval
        while not self._timer_stop.wait(interval):
            try:
                self.checkpoint()
            except AuditError as exc:
                log.warning("checkpoint_failed", error=str(exc))

    def stop_checkpoint_timer(self) -> None:
        self._timer_stop.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.join(timeout=10)

    # ------------------------------------------------------------------ subclass hooks

    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def migrations(self) -> dict[int, Migration]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def writable(self) -> bool:
        raise NotImplementedError

    def _lock_schema(self, tx: Tx) -> None:
        """Serialize migrations between processes (a no-op where the transaction does)."""

    # ------------------------------------------------------------------ schema

    def migrate(self) -> int:
        """Apply the migrations this database has not seen yet; the version afterwards."""
        with self._transaction(write=True) as tx:
            self._lock_schema(tx)
            tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            current = tx.execute("SELECT max(version) FROM schema_version")[0][0] or 0
            migrations = self.migrations()
            for version in sorted(v for v in migrations if v > current):
                migrations[version](tx)
                tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                current = version
            if not tx.execute("SELECT 1 FROM audit_head WHERE id = 1"):
                tx.execute(
                    "INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, ?)",
                    (GENESIS_HASH,),
                )
        return int(current)

    # ------------------------------------------------------------------ writing

    def append(self, record: AuditRecord) -> AuditRecord:
        """Seal ``record`` as the next one; checkpoint the head when one is due."""
        document = record.document()
        with self._transaction(write=True) as tx:
            head, prev_hash = tx.execute(
                "SELECT sequence, hash FROM audit_head WHERE id = 1" + self.lock_head_suffix
            )[0]
            sequence = int(head) + 1
            stored = seal(document, sequence, str(prev_hash))
            insert_record(tx, stored)
            tx.execute(
                "UPDATE audit_head SET sequence = ?, hash = ? WHERE id = 1",
                (sequence, stored["hash"]),
            )
            self._checkpoint_if_due(tx, sequence, stored["hash"], force=False)
        return record.sealed(sequence, str(prev_hash), stored["hash"])

    def checkpoint(self, *, force: bool = False) -> Checkpoint | None:
        """Sign the head if a checkpoint is due (``force``: if the head moved at all)."""
        if self.signer is None:
            return None
        with self._transaction(write=True) as tx:
            head, head_hash = tx.execute(
                "SELECT sequence, hash FROM audit_head WHERE id = 1" + self.lock_head_suffix
            )[0]
            return self._checkpoint_if_due(tx, int(head), str(head_hash), force=force)

    def _checkpoint_if_due(
        self, tx: Tx, head: int, head_hash: str, *, force: bool
    ) -> Checkpoint | None:
        if self.signer is None or head == 0:
            return None
        last = tx.execute("SELECT sequence, time FROM checkpoints ORDER BY sequence DESC LIMIT 1")
        if last:
            last_sequence, since = int(last[0][0]), str(last[0][1])
        else:
            last_sequence = 0
            since = str(tx.execute("SELECT min(time) FROM decisions")[0][0])
        now = self.checkpoint_policy.clock()
        if head <= last_sequence:
            return None
        if not force and not self.checkpoint_policy.due(head, last_sequence, since, now):
            return None
        time = utc_text(now)
        signature = self.signer.sign(
            Checkpoint(head, head_hash, time, self.signer.key_id, "").message()
        )
        checkpoint = Checkpoint(head, head_hash, time, self.signer.key_id, signature)
        tx.execute(
            "INSERT INTO checkpoints (sequence, hash, time, key_id, signature)"
            " VALUES (?, ?, ?, ?, ?)",
            (head, head_hash, time, checkpoint.key_id, signature),
        )
        return checkpoint

    # ------------------------------------------------------------------ reading

    def rows(self, after_sequence: int = 0, batch: int = 5000) -> Iterator[tuple[int, str]]:
        """Stored rows as ``(sequence column, record text)``, in sequence order."""
        cursor = after_sequence
        while True:
            with self._transaction(write=False) as tx:
                chunk = tx.execute(
                    "SELECT sequence, record FROM decisions WHERE sequence > ?"
                    " ORDER BY sequence LIMIT ?",
                    (cursor, batch),
                )
            if not chunk:
                return
            for sequence, text in chunk:
                yield int(sequence), str(text)
            cursor = int(chunk[-1][0])

    def indexed_batches(self, after_sequence: int = 0, size: int = 5000) -> Iterator[IndexedBatch]:
        """Stored rows with what is kept beside them, for verify, ``size`` rows a batch
        (:mod:`policy_engine.audit.index_reader`)."""
        after: int | None = after_sequence or None  # None: side rows at any sequence
        while True:
            with self._transaction(write=False) as tx:
                batch = read_batch(tx, after, size)
            yield batch
            if batch.last is None:
                return
            after = batch.last

    def records(self, after_sequence: int = 0) -> Iterator[AuditRecord]:
        for sequence, text in self.rows(after_sequence):
            yield _read(sequence, text)

    def count(self) -> int:
        with self._transaction(write=False) as tx:
            return int(tx.execute("SELECT count(*) FROM decisions")[0][0])

    def head(self) -> tuple[int, str]:
        """``(sequence, hash)`` of the last appended record as the head row says."""
        with self._transaction(write=False) as tx:
            rows = tx.execute("SELECT sequence, hash FROM audit_head WHERE id = 1")
        return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS_HASH)

    def checkpoints(self, first: int = 0, last: int | None = None) -> list[Checkpoint]:
        """Checkpoints with ``first <= sequence <= last``, in sequence order."""
        sql = "SELECT sequence, hash, time, key_id, signature FROM checkpoints WHERE sequence >= ?"
        params: list[Any] = [first]
        if last is not None:
            sql += " AND sequence <= ?"
            params.append(last)
        with self._transaction(write=False) as tx:
            rows = tx.execute(sql + " ORDER BY sequence", params)
        return [Checkpoint(int(s), str(h), str(t), str(k), str(g)) for s, h, t, k, g in rows]

    def get(self, decision_id: str) -> AuditRecord | None:
        with self._transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT sequence, record FROM decisions WHERE decision_id = ?", (decision_id,)
            )
        return _read(rows[0][0], rows[0][1]) if rows else None

    def query(
        self, filters: AuditFilters, *, after_sequence: int = 0, limit: int = 100
    ) -> list[AuditRecord]:
        """Matching records in sequence order, after ``after_sequence``, at most ``limit``."""
        rows = self._stored_rows(filters, after_sequence, limit)
        return [_read(sequence, text) for sequence, text in rows]

    def iter_query(self, filters: AuditFilters, batch: int = 2000) -> Iterator[AuditRecord]:
        """Every matching record, in sequence order, read in batches of stored text and
        parsed one at a time as it is taken (a batch of parsed records would keep the
        garbage collector busy: reading a large log took about twice as long)."""
        after = 0
        while True:
            rows = self._stored_rows(filters, after, batch)
            for sequence, text in rows:
                yield _read(sequence, text)
            if len(rows) < batch:
                return
            after = int(rows[-1][0])

    def _stored_rows(
        self, filters: AuditFilters, after_sequence: int, limit: int
    ) -> list[tuple[Any, ...]]:
        """``(sequence, record text)`` of the matching rows, in sequence order."""
        where, params = where_clause(filters)
        with self._transaction(write=False) as tx:
            return tx.execute(
                f"SELECT sequence, record FROM decisions WHERE sequence > ? AND {where}"
                " ORDER BY sequence LIMIT ?",
                [after_sequence, *params, limit],
            )

    def sequence_range(self, filters: AuditFilters) -> tuple[int, int] | None:
        """The first and last sequence of the matching records (None if there are none)."""
        where, params = where_clause(filters)
        with self._transaction(write=False) as tx:
            low, high = tx.execute(
                f"SELECT min(sequence), max(sequence) FROM decisions WHERE {where}", params
            )[0]
        return None if low is None else (int(low), int(high))

    def containing(self, needle: str, filters: AuditFilters) -> Iterator[AuditRecord]:
        """Records whose stored text contains ``needle`` (a digest), in sequence order."""
        if not _SAFE_NEEDLE.match(needle):
            raise AuditError("a digest to search for holds only letters, digits, ':' and '-'")
        where, params = where_clause(filters)
        pattern = "%" + needle + "%"
        after = 0
        while True:
            with self._transaction(write=False) as tx:
                rows = tx.execute(
                    f"SELECT sequence, record FROM decisions WHERE sequence > ? AND {where}"
                    " AND record LIKE ? ORDER BY sequence LIMIT 2000",
                    [after, *params, pattern],
                )
            for sequence, text in rows:
                yield _read(sequence, text)
            if len(rows) < 2000:
                return
            after = int(rows[-1][0])

    def stats(self, filters: AuditFilters, top: int = 10) -> dict[str, Any]:
        """Counts per segment and outcome, the ``top`` rules and entity types, time span."""
        where, params = where_clause(filters)
        with self._transaction(write=False) as tx:
            total, first, last = tx.execute(
                f"SELECT count(*), min(time), max(time) FROM decisions WHERE {where}", params
            )[0]
            by_segment = tx.execute(
                f"SELECT segment, outcome, count(*) FROM decisions WHERE {where}"
                " GROUP BY segment, outcome ORDER BY segment, outcome",
                params,
            )
            tops = {
                name: tx.execute(
                    f"SELECT t.{column}, count(*) AS n FROM {table} t JOIN decisions"
                    f" ON decisions.sequence = t.sequence WHERE {where}"
                    f" GROUP BY t.{column} ORDER BY n DESC, t.{column} LIMIT ?",
                    [*params, top],
                )
                for name, table, column in (
                    ("rules", "decision_rules", "rule"),
                    ("entity_types", "decision_entities", "entity_type"),
                )
            }
        return {
            "total": int(total),
            "first_time": first,
            "last_time": last,
            "by_segment_outcome": [
                {"segment": s, "outcome": o, "count": int(n)} for s, o, n in by_segment
            ],
            "top_rules": [{"rule": r, "count": int(n)} for r, n in tops["rules"]],
            "top_entity_types": [
                {"entity_type": e, "count": int(n)} for e, n in tops["entity_types"]
            ],
        }


def _read(sequence: Any, text: str) -> AuditRecord:
    """A stored row as a record; :class:`AuditError` naming it when it is not one."""
    try:
        return parse_audit_record(text)
    except (ValidationError, ValueError):
        raise AuditError(
            f"record {sequence} cannot be read as a decision record; run audit verify"
        ) from None


_SAFE_NEEDLE = re.compile(r"^[A-Za-z0-9:-]+$")
