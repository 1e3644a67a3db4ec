"""SQLite audit store: the embedded default (WAL, fsync on every commit).

Appends take SQLite's write lock (``BEGIN IMMEDIATE``) so several processes can
share one file and the chain stays a single total order. Everything else is in
:class:`~policy_engine.audit.sql_store.SqlAuditStore`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.schema import (
    SHARED_MIGRATION_3,
    Migration,
    Tx,
    backfill_v2,
    schema_v1,
    statements,
)
from policy_engine.audit.signing import Signer
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.errors import AuditError

SCHEMA_VERSION = 3


class _SQLiteTx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, tuple(params)).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)


class SQLiteAuditStore(SqlAuditStore):
    """Append-only hash-chained log in one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = 10_000,
        signer: Signer | None = None,
        checkpoint_policy: CheckpointPolicy | None = None,
    ) -> None:
        super().__init__(name=str(path), signer=signer, checkpoint_policy=checkpoint_policy)
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=10
            )
            self._db.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"audit store {path}: cannot open ({exc})") from None
        self.migrate()

    def migrations(self) -> dict[int, Migration]:
        return {
            1: statements(schema_v1("INTEGER")),
            2: backfill_v2,
            3: statements(SHARED_MIGRATION_3),
        }

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise AuditError(f"audit store {self.path}: cannot begin ({exc})") from None
            try:
                yield _SQLiteTx(self._db)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise AuditError(f"audit store {self.path}: {exc}") from None
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    def writable(self) -> bool:
        """Whether an append could take the write lock now (for readiness checks)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("ROLLBACK")
                return True
            except sqlite3.Error:
                return False

    def close(self) -> None:
        self.stop_checkpoint_timer()
        with self._lock:
            self._db.close()
