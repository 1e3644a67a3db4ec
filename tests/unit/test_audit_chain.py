"""The hash chain and the SQLite store: appends chain, verify names every kind of tampering."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest

from policy_engine.audit import GENESIS_HASH, SQLiteAuditStore, record_hash, seal, verify_rows
from policy_engine.errors import AuditError
from policy_engine.records import AuditRecord
from tests.audit_support import entry as audit_entry


def entry(n: int) -> AuditRecord:
    return audit_entry(
        n,
        decision_id=f"d-{n:04d}",
        time=f"2026-11-22T10:00:{n % 60:02d}.000000Z",
        segment="any",
        outcome="decided",
        findings=[],
        reasons=[],
    )


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteAuditStore:
    s = SQLiteAuditStore(tmp_path / "audit.db")
    for n in range(1, 6):
        s.append(entry(n))
    return s


def test_seal_sets_chain_fields_and_hash_covers_everything_else() -> None:
    record = seal(entry(1).document(), 1, GENESIS_HASH)
    assert record["sequence"] == 1
    assert record["prev_hash"] == GENESIS_HASH
    assert record["hash"] == record_hash(record)
    changed = dict(record, segment="on_prem_only")
    assert record_hash(changed) != record["hash"]


def test_appends_form_a_chain(store: SQLiteAuditStore) -> None:
    records = list(store.records())
    assert [r.sequence for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
    assert store.count() == 5


def test_intact_log_verifies(store: SQLiteAuditStore) -> None:
    report = verify_rows(store.rows())
    assert report.ok
    assert report.count == 5
    assert report.summary() == "OK: 5 records, hash chain intact"


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    first = SQLiteAuditStore(path)
    last = first.append(entry(1))
    first.close()
    second = SQLiteAuditStore(path)
    record = second.append(entry(2))
    assert record.sequence == 2
    assert record.prev_hash == last.hash
    assert verify_rows(second.rows()).ok


def _tamper(store: SQLiteAuditStore, sql: str, *params: object) -> None:
    db = sqlite3.connect(store.path)
    db.execute(sql, params)
    db.commit()
    db.close()


def test_edited_record_is_named(store: SQLiteAuditStore) -> None:
    text = next(t for s, t in store.rows() if s == 3)
    record = json.loads(text)
    record["segment"] = "any" if record["segment"] != "any" else "trusted_hosted"
    _tamper(store, "UPDATE decisions SET record = ? WHERE sequence = 3", json.dumps(record))
    report = verify_rows(store.rows())
    assert not report.ok
    assert (report.sequence, report.problem) == (3, "edited")
    assert "sequence 3" in report.summary()


def test_deleted_record_is_named(store: SQLiteAuditStore) -> None:
    _tamper(store, "DELETE FROM decisions WHERE sequence = 2")
    report = verify_rows(store.rows())
    assert (report.ok, report.sequence, report.problem) == (False, 2, "missing")
    assert "record 2 is missing" in report.detail


def test_deleted_first_record_is_named(store: SQLiteAuditStore) -> None:
    _tamper(store, "DELETE FROM decisions WHERE sequence = 1")
    report = verify_rows(store.rows())
    assert (report.sequence, report.problem) == (1, "missing")


def test_swapped_records_are_named_reordered(store: SQLiteAuditStore) -> None:
    rows = dict(store.rows())
    _tamper(store, "UPDATE decisions SET record = ? WHERE sequence = 4", rows[3])
    _tamper(store, "UPDATE decisions SET record = ? WHERE sequence = 3", rows[4])
    report = verify_rows(store.rows())
    assert (report.sequence, report.problem) == (3, "reordered")
    assert "holds record 4" in report.detail


def test_rewritten_record_with_fresh_hash_breaks_the_chain(store: SQLiteAuditStore) -> None:
    """Someone who recomputes the edited record's own hash is still caught by the next one."""
    record = json.loads(dict(store.rows())[2])
    record["segment"] = "on_prem_only"
    record["hash"] = record_hash(record)
    _tamper(store, "UPDATE decisions SET record = ? WHERE sequence = 2", json.dumps(record))
    report = verify_rows(store.rows())
    assert (report.sequence, report.problem) == (3, "broken_chain")


def test_garbage_record_is_unreadable(store: SQLiteAuditStore) -> None:
    _tamper(store, "UPDATE decisions SET record = 'not json' WHERE sequence = 5")
    report = verify_rows(store.rows())
    assert (report.sequence, report.problem) == (5, "unreadable")


def test_append_failure_raises_audit_error(store: SQLiteAuditStore) -> None:
    store.close()
    with pytest.raises(AuditError):
        store.append(entry(99))


def test_duplicate_decision_id_is_refused_and_chain_stays_intact(store: SQLiteAuditStore) -> None:
    with pytest.raises(AuditError):
        store.append(entry(1))
    assert store.count() == 5
    assert verify_rows(store.rows()).ok


def test_unopenable_path_is_an_audit_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AuditError, match="cannot open"):
        SQLiteAuditStore(blocker / "audit.db")


def test_records_stored_in_another_json_layout_still_verify() -> None:
    """The fast path reads canonical text; any other layout of the same record is checked
    by parsing it, and verifies when its content is intact."""
    first = seal(entry(1).document(), 1, GENESIS_HASH)
    second = seal(entry(2).document(), 2, first["hash"])
    rows = [(1, json.dumps(first, indent=2)), (2, json.dumps(second))]
    assert verify_rows(rows).ok
    edited = dict(second, segment="on_prem_only")
    assert verify_rows([rows[0], (2, json.dumps(edited))]).problem == "edited"
