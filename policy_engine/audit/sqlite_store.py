"""SQLite audit store: the embedded default (WAL, fsync on every commit).

One row per decision. ``record`` holds the record's canonical JSON, including
``sequence``, ``prev_hash`` and ``hash``; the columns beside it are indexes.
Appends take SQLite's write lock (``BEGIN IMMEDIATE``) so several processes can
share one file and the chain stays a single total order.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from policy_engine.audit.chain import GENESIS_HASH, canonical_json, seal
from policy_engine.errors import AuditError

SCHEMA_VERSION = 1

_MIGRATIONS: dict[int, str] = {
    1: """
        CREATE TABLE decisions (
            sequence    INTEGER PRIMARY KEY,
            decision_id TEXT NOT NULL UNIQUE,
            time        TEXT NOT NULL,
            segment     TEXT NOT NULL,
            outcome     TEXT NOT NULL,
            record      TEXT NOT NULL,
            hash        TEXT NOT NULL
        );
        CREATE INDEX decisions_time ON decisions (time);
    """,
}


class SQLiteAuditStore:
    """Append-only hash-chained log in one SQLite file."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
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
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"audit store {path}: cannot open ({exc})") from None

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
                row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
                current = row[0] or 0
                for version in sorted(v for v in _MIGRATIONS if v > current):
                    for statement in _MIGRATIONS[version].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute("INSERT INTO schema_version VALUES (?)", (version,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def append(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise AuditError(
                    f"audit store {self.path}: cannot lock for append ({exc})"
                ) from None
            try:
                last = self._db.execute(
                    "SELECT sequence, hash FROM decisions ORDER BY sequence DESC LIMIT 1"
                ).fetchone()
                sequence, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
                record = seal(entry, sequence, prev_hash)
                self._db.execute(
                    "INSERT INTO decisions (sequence, decision_id, time, segment, outcome, record,"
                    " hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        sequence,
                        record["decision_id"],
                        record["time"],
                        record["segment"],
                        record["outcome"],
                        canonical_json(record),
                        record["hash"],
                    ),
                )
                self._db.execute("COMMIT")
            except (sqlite3.Error, KeyError) as exc:
                self._rollback()
                raise AuditError(f"audit store {self.path}: append failed ({exc})") from None
            return record

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    def rows(self, after_sequence: int = 0, batch: int = 5000) -> Iterator[tuple[int, str]]:
        """Stored rows as ``(sequence column, record text)``, in sequence order."""
        cursor = after_sequence
        while True:
            with self._lock:
                chunk = self._db.execute(
                    "SELECT sequence, record FROM decisions WHERE sequence > ?"
                    " ORDER BY sequence LIMIT ?",
                    (cursor, batch),
                ).fetchall()
            if not chunk:
                return
            yield from chunk
            cursor = chunk[-1][0]

    def records(self, after_sequence: int = 0) -> Iterator[dict[str, Any]]:
        for _, text in self.rows(after_sequence):
            record: dict[str, Any] = json.loads(text)
            yield record

    def count(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM decisions").fetchone()
        return int(row[0])

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
        with self._lock:
            self._db.close()
