"""PostgreSQL audit store (psycopg 3): the production store shared by many replicas.

Every append locks the one-row ``audit_head`` table (``SELECT … FOR UPDATE``) in the
same transaction as its insert, so any number of processes append one gap-free
total order. Migrations take a transaction-scoped advisory lock, so replicas that
start together migrate once. Everything else is in
:class:`~policy_engine.audit.sql_store.SqlAuditStore`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

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

#: Key of the advisory lock that serializes migrations ("pe-audit" in ASCII).
_MIGRATION_LOCK = 0x70652D6175646974


def describe_url(url: str) -> str:
    """The URL without credentials, for messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://<unparsable URL>"
    host = parts.get("host", "localhost")
    port = parts.get("port", "5432")
    return f"postgresql://{host}:{port}/{parts.get('dbname', '')}"


class _PgTx:
    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))
        return self._cursor.fetchall() if self._cursor.description is not None else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), rows)


class PostgresAuditStore(SqlAuditStore):
    """Append-only hash-chained log in a PostgreSQL database."""

    lock_head_suffix = " FOR UPDATE"

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = 10,
        signer: Signer | None = None,
        checkpoint_policy: CheckpointPolicy | None = None,
    ) -> None:
        super().__init__(name=describe_url(url), signer=signer, checkpoint_policy=checkpoint_policy)
        self._url = url
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = False
        with self._lock:
            self._connection()
        self.migrate()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = psycopg.connect(
                    self._url, autocommit=True, connect_timeout=self._connect_timeout
                )
            except psycopg.Error as exc:
                raise AuditError(
                    f"audit store {self.name}: cannot connect ({_first(exc)})"
                ) from None
        return self._conn

    def migrations(self) -> dict[int, Migration]:
        return {
            1: statements(schema_v1("BIGINT")),
            2: backfill_v2,
            3: statements(SHARED_MIGRATION_3),
        }

    def _lock_schema(self, tx: Tx) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        with self._lock:
            if self._closed:
                raise AuditError(f"audit store {self.name}: the store is closed")
            conn = self._connection()
            try:
                with conn.transaction(), conn.cursor() as cursor:
                    if not write:  # one snapshot for every statement of a read
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    yield _PgTx(cursor)
            except psycopg.Error as exc:
                raise AuditError(f"audit store {self.name}: {_first(exc)}") from None

    def writable(self) -> bool:
        """Whether the database answers and accepts writes (not a read-only standby)."""
        try:
            with self._transaction(write=True) as tx:
                in_recovery = tx.execute("SELECT pg_is_in_recovery()")[0][0]
        except AuditError:
            return False
        return not in_recovery

    def close(self) -> None:
        self.stop_checkpoint_timer()
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()


def _first(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
