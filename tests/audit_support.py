"""Helpers for the audit tests: both stores behind one fixture, raw SQL for tampering."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from policy_engine.audit import SQLiteAuditStore
from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.postgres_store import PostgresAuditStore
from policy_engine.audit.signing import Signer, load_or_create_signer
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.records import AuditRecord

BACKENDS = ["sqlite", "postgresql"]


def documents(records: Iterable[AuditRecord]) -> list[dict[str, Any]]:
    """Records as the JSON documents the log stores."""
    return [record.document() for record in records]


def entry(n: int, **overrides: Any) -> AuditRecord:
    """A plausible audit record; ``n`` picks tenant, segment, rules and entity types."""
    tenants = ["acme", "globex", "initech"]
    segment = ["any", "trusted_hosted", "on_prem_only"][n % 3]
    findings = (
        [{"type": "US_SSN", "category": "pii", "count": 1, "max_score": 0.85,
          "spans": [[0, 11]], "detector": "presidio:UsSsnRecognizer",
          "value_digests": [f"hmac-sha256:{n:064x}"]}]
        if segment == "on_prem_only"
        else []
    )  # fmt: skip
    reasons = (
        [{"rule": "isolation.sensitive_pii", "segment": "on_prem_only", "message": "SSN"}]
        if segment == "on_prem_only"
        else []
    )
    record: dict[str, Any] = {
        "decision_id": f"d-{n:05d}",
        "time": f"2026-11-{10 + n // 100:02d}T10:{(n // 60) % 60:02d}:{n % 60:02d}.000000Z",
        "caller": "key-test",
        "context": {"tenant": tenants[n % 3], "application": f"app-{n % 2}"},
        "content_digest": f"hmac-sha256:c{n:063x}",
        "content_characters": 40 + n,
        "findings": findings,
        "segment": segment,
        "allowed_endpoints": [],
        "recommended_endpoint": None,
        "requested_endpoint_allowed": None,
        "excluded_endpoints": [],
        "reasons": reasons,
        "obligations": [],
        "policy_revision": f"sha256:rev{n // 10}",
        "engine_version": "0.1.0",
        "outcome": "fail_closed" if n % 7 == 0 else "decided",
        "latency_ms": 1.0,
    }
    record.update(overrides)
    return AuditRecord.model_validate(record)


class Backend:
    """One database of one kind: open stores on it, and tamper with it directly."""

    def __init__(self, kind: str, url: str, path: Path | None) -> None:
        self.kind = kind
        self.url = url
        self.path = path

    def open(
        self,
        *,
        signer: Signer | None = None,
        every: int = 1000,
        seconds: float = 3600,
        clock: Callable[[], datetime] | None = None,
    ) -> SqlAuditStore:
        policy = (
            CheckpointPolicy(every=every, seconds=seconds)
            if clock is None
            else CheckpointPolicy(every=every, seconds=seconds, clock=clock)
        )
        if self.path is not None:
            return SQLiteAuditStore(self.path, signer=signer, checkpoint_policy=policy)
        return PostgresAuditStore(self.url, signer=signer, checkpoint_policy=policy)

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run SQL with ``?`` placeholders outside the store, as a tamperer would."""
        if self.path is not None:
            db = sqlite3.connect(self.path)
            try:
                rows = db.execute(sql, params).fetchall()
                db.commit()
            finally:
                db.close()
            return rows
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description is not None else []


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "audit.db"
        yield Backend("sqlite", f"sqlite:///{path}", path)
    else:
        url = request.getfixturevalue("postgres_url")
        yield Backend("postgresql", url, None)


@pytest.fixture()
def signer(tmp_path: Path) -> Signer:
    return load_or_create_signer(tmp_path / "keys" / "audit-signing.key")


#: Takes a SQLite database's write lock in another process and keeps it until stdin closes.
LOCK_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


@contextmanager
def sqlite_write_locked(db_path: Path) -> Iterator[None]:
    """While inside, another process holds ``db_path``'s write lock: nothing can be
    appended to the audit log there (a store outage, as a live server sees it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the lock holder rolls back and exits
        holder.wait(timeout=30)
