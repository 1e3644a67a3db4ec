"""The audit tables and their migrations, the same SQL on SQLite and PostgreSQL.

Version 1: ``decisions`` (one row per record). Version 2: the filter columns ``tenant``,
``application``, ``policy_revision``, the side tables ``decision_rules`` and
``decision_entities``, ``checkpoints`` and ``audit_head``, filled from the records
already there. Version 3: ``kind`` (``decision`` or ``delivery``). What goes into the
columns and side tables is derived by :func:`~policy_engine.audit.columns.indexed_columns`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from policy_engine.audit.chain import GENESIS_HASH, parse_record
from policy_engine.audit.columns import (
    DECISION_COLUMNS,
    SIDE_TABLES,
    IndexedColumns,
    insert_statement,
    of_document,
)
from policy_engine.records import canonical_json


class Tx(Protocol):
    """One open transaction: run a statement, get its rows (empty for writes)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


Migration = Callable[[Tx], None]


def schema_v1(sequence_type: str) -> list[str]:
    """Version 1: the decisions table (``sequence_type``: INTEGER on SQLite, the rowid)."""
    return [
        f"""CREATE TABLE decisions (
            sequence    {sequence_type} PRIMARY KEY,
            decision_id TEXT NOT NULL UNIQUE,
            time        TEXT NOT NULL,
            segment     TEXT NOT NULL,
            outcome     TEXT NOT NULL,
            record      TEXT NOT NULL,
            hash        TEXT NOT NULL
        )""",
        "CREATE INDEX decisions_time ON decisions (time)",
    ]


#: Version 2, the same on both databases: filter columns, side tables, checkpoints, head.
SHARED_MIGRATION_2 = [
    "ALTER TABLE decisions ADD COLUMN tenant TEXT",
    "ALTER TABLE decisions ADD COLUMN application TEXT",
    "ALTER TABLE decisions ADD COLUMN policy_revision TEXT",
    "CREATE INDEX decisions_tenant ON decisions (tenant, sequence)",
    "CREATE INDEX decisions_application ON decisions (application, sequence)",
    "CREATE INDEX decisions_revision ON decisions (policy_revision, sequence)",
    "CREATE INDEX decisions_segment ON decisions (segment, outcome)",
    "CREATE TABLE decision_rules (sequence BIGINT NOT NULL, rule TEXT NOT NULL,"
    " PRIMARY KEY (sequence, rule))",
    "CREATE INDEX decision_rules_rule ON decision_rules (rule, sequence)",
    "CREATE TABLE decision_entities (sequence BIGINT NOT NULL, entity_type TEXT NOT NULL,"
    " PRIMARY KEY (sequence, entity_type))",
    "CREATE INDEX decision_entities_type ON decision_entities (entity_type, sequence)",
    "CREATE TABLE checkpoints (sequence BIGINT PRIMARY KEY, hash TEXT NOT NULL,"
    " time TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL)",
    "CREATE TABLE audit_head (id INTEGER PRIMARY KEY, sequence BIGINT NOT NULL,"
    " hash TEXT NOT NULL)",
]


#: Version 3: the record's kind (delivery records, docs/proxy.md); every earlier row is a
#: decision.
SHARED_MIGRATION_3 = [
    "ALTER TABLE decisions ADD COLUMN kind TEXT NOT NULL DEFAULT 'decision'",
    "CREATE INDEX decisions_kind ON decisions (kind, sequence)",
]


def statements(sqls: Sequence[str]) -> Migration:
    def run(tx: Tx) -> None:
        for sql in sqls:
            tx.execute(sql)

    return run


def backfill_v2(tx: Tx) -> None:
    """Fill the version-2 columns and tables from records written by version 1."""
    statements(SHARED_MIGRATION_2)(tx)
    last = (0, GENESIS_HASH)
    for sequence, text in tx.execute("SELECT sequence, record FROM decisions ORDER BY sequence"):
        try:
            columns = of_document(parse_record(text))
        except (ValueError, KeyError, TypeError):
            continue  # left for verify to report
        insert_side_rows(tx, int(sequence), columns)
        tx.execute(
            "UPDATE decisions SET tenant = ?, application = ?, policy_revision = ?"
            " WHERE sequence = ?",
            (columns.tenant, columns.application, columns.policy_revision, sequence),
        )
        last = (int(sequence), columns.hash)
    tx.execute("INSERT INTO audit_head (id, sequence, hash) VALUES (1, ?, ?)", last)


def insert_record(tx: Tx, stored: Mapping[str, Any]) -> None:
    """Insert a sealed record (its JSON document, as the chain hashes it) with everything
    kept beside it (:func:`~policy_engine.audit.columns.indexed_columns`)."""
    columns = of_document(stored)
    sequence = int(stored["sequence"])
    tx.execute(
        _INSERT,
        (sequence, canonical_json(stored), *(getattr(columns, n) for n in DECISION_COLUMNS)),
    )
    insert_side_rows(tx, sequence, columns)


_INSERT = insert_statement()


def insert_side_rows(tx: Tx, sequence: int, columns: IndexedColumns) -> None:
    """Insert the side-table rows of the record at ``sequence``."""
    for name, (table, column) in SIDE_TABLES.items():
        values = getattr(columns, name)
        if values:
            tx.executemany(
                f"INSERT INTO {table} (sequence, {column}) VALUES (?, ?)",
                [(sequence, value) for value in values],
            )
