"""What the store keeps beside each record for queries is verified against the record.

Queries filter on the columns of ``decisions`` and on the side tables, never on the hashed
record: an edited column sends a decision out of (or into) an auditor's answer while the
chain stays intact. Each test shows the wrong answer a query gives, then that verify
names the record and the column (both stores).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from policy_engine.audit import verify_store
from policy_engine.audit.columns import DECISION_COLUMNS
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.audit.verify import VerifyReport
from policy_engine.ports import IndexedBatch
from policy_engine.records import AuditFilters
from tests.audit_support import Backend, entry

#: entry(8) is on_prem_only for US_SSN (rule isolation.sensitive_pii), tenant initech,
#: outcome decided; entry(4) is trusted_hosted with no finding.
SSN_RECORD, CLEAN_RECORD = 8, 4
RULE = "isolation.sensitive_pii"


@pytest.fixture()
def store(backend: Backend) -> SqlAuditStore:
    s = backend.open()
    for n in range(1, 13):
        s.append(entry(n))
    assert verify(s).ok
    return s


def verify(store: SqlAuditStore) -> VerifyReport:
    return verify_store(store, {})


def sequences(store: SqlAuditStore, **filters: str) -> list[int]:
    return [r.sequence or 0 for r in store.iter_query(AuditFilters(**filters))]  # type: ignore[arg-type]


def test_an_edited_segment_column_is_named(backend: Backend, store: SqlAuditStore) -> None:
    assert SSN_RECORD in sequences(store, segment="on_prem_only")
    backend.execute("UPDATE decisions SET segment = 'any' WHERE sequence = ?", SSN_RECORD)
    # The auditor asking for every on-prem decision no longer sees it:
    assert SSN_RECORD not in sequences(store, segment="on_prem_only")
    assert SSN_RECORD in sequences(store, segment="any")
    report = verify(store)
    assert (report.ok, report.sequence, report.problem) == (False, SSN_RECORD, "index_mismatch")
    assert report.columns == ("decisions.segment",)
    assert report.summary().startswith(
        f"FAILED at sequence {SSN_RECORD}: index_mismatch: decisions.segment is 'any'"
        " but the record says 'on_prem_only'"
    )


def test_deleted_rule_rows_are_named(backend: Backend, store: SqlAuditStore) -> None:
    assert SSN_RECORD in sequences(store, rule=RULE)
    backend.execute("DELETE FROM decision_rules WHERE sequence = ?", SSN_RECORD)
    assert SSN_RECORD not in sequences(store, rule=RULE)  # the query's answer is wrong
    report = verify(store)
    assert (report.sequence, report.problem, report.columns) == (
        SSN_RECORD,
        "index_mismatch",
        ("decision_rules",),
    )
    assert f"decision_rules lacks '{RULE}'" in report.detail


def test_an_extra_entity_row_is_named(backend: Backend, store: SqlAuditStore) -> None:
    assert CLEAN_RECORD not in sequences(store, entity_type="US_SSN")
    backend.execute(
        "INSERT INTO decision_entities (sequence, entity_type) VALUES (?, 'US_SSN')", CLEAN_RECORD
    )
    assert CLEAN_RECORD in sequences(store, entity_type="US_SSN")  # a decision it never was
    report = verify(store)
    assert (report.sequence, report.columns) == (CLEAN_RECORD, ("decision_entities",))
    assert "decision_entities has extra 'US_SSN'" in report.detail


def test_an_edited_tenant_is_named(backend: Backend, store: SqlAuditStore) -> None:
    assert SSN_RECORD in sequences(store, tenant="initech")
    backend.execute("UPDATE decisions SET tenant = 'acme' WHERE sequence = ?", SSN_RECORD)
    assert SSN_RECORD not in sequences(store, tenant="initech")
    report = verify(store)
    assert (report.sequence, report.columns) == (SSN_RECORD, ("decisions.tenant",))
    assert "decisions.tenant is 'acme' but the record says 'initech'" in report.detail


def test_a_changed_outcome_is_named(backend: Backend, store: SqlAuditStore) -> None:
    """A fail-closed decision passed off as an ordinary one."""
    assert 7 in sequences(store, outcome="fail_closed")
    backend.execute("UPDATE decisions SET outcome = 'decided' WHERE sequence = 7")
    assert 7 not in sequences(store, outcome="fail_closed")
    report = verify(store)
    assert (report.sequence, report.columns) == (7, ("decisions.outcome",))


@pytest.mark.parametrize("column", DECISION_COLUMNS)
def test_every_column_beside_the_record_is_checked(
    backend: Backend, store: SqlAuditStore, column: str
) -> None:
    backend.execute(f"UPDATE decisions SET {column} = 'tampered' WHERE sequence = 5")
    report = verify(store)
    assert (report.ok, report.sequence, report.problem) == (False, 5, "index_mismatch")
    assert report.columns == (f"decisions.{column}",)


def test_a_null_tenant_and_a_rule_moved_between_records(
    backend: Backend, store: SqlAuditStore
) -> None:
    """Each record reports every column that differs; the first record is reported."""
    backend.execute("UPDATE decisions SET tenant = NULL WHERE sequence = 10")
    backend.execute("UPDATE decision_rules SET sequence = 10 WHERE sequence = ?", SSN_RECORD)
    report = verify(store)
    assert (report.sequence, report.columns) == (SSN_RECORD, ("decision_rules",))
    backend.execute("UPDATE decision_rules SET sequence = ? WHERE sequence = 10", SSN_RECORD)
    backend.execute("UPDATE decisions SET segment = 'any' WHERE sequence = 10")
    report = verify(store)
    assert (report.sequence, report.columns) == (10, ("decisions.segment", "decisions.tenant"))
    assert "decisions.tenant is None but the record says 'globex'" in report.detail


def test_rows_left_behind_by_a_deleted_record_name_it(
    backend: Backend, store: SqlAuditStore
) -> None:
    """Records 11 and 12 removed from the end of a log without checkpoints, the head row
    rewound: the side-table rows the tamperer forgot still show that 11 existed."""
    backend.execute("DELETE FROM decisions WHERE sequence > 10")
    backend.execute("UPDATE audit_head SET sequence = 10")
    report = verify(store)
    assert (report.ok, report.sequence, report.problem) == (False, 11, "missing")
    assert report.detail.startswith("record 11 is missing; decision_rules still holds")
    assert report.columns == ("decision_rules", "decision_entities")


def test_verify_reads_the_side_tables_in_batches(backend: Backend, store: SqlAuditStore) -> None:
    """Side-table rows come with the batch of records whose range holds their sequence;
    the last batch also holds those after the last record, which verify names."""
    batches = list(store.indexed_batches(size=5))
    assert [[s for s, _, _ in b.rows] for b in batches] == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10],
                                                           [11, 12]]  # fmt: skip
    assert [b.last for b in batches] == [5, 10, None]
    rules = [sorted(b.sides[0]) for b in batches]
    assert rules == [[(2, RULE), (5, RULE)], [(8, RULE)], [(11, RULE)]]
    backend.execute("INSERT INTO decision_rules (sequence, rule) VALUES (40, 'x.y')")
    (tail,) = list(store.indexed_batches(after_sequence=10))
    assert (40, "x.y") in tail.sides[0]
    report = verify(store)
    assert (report.sequence, report.problem) == (40, "missing")
    assert report.detail == "record 40 is missing; decision_rules still holds 'x.y' for record 40"


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (["INSERT INTO decision_entities (sequence, entity_type) VALUES (6, 'X')"], 6),
        (["DELETE FROM decision_entities WHERE sequence = 5"], 5),
        (["UPDATE decision_entities SET sequence = 6 WHERE sequence = 5"], 5),
        (["UPDATE decision_entities SET sequence = 13 WHERE sequence = 11"], 11),
    ],
)
def test_a_batch_boundary_does_not_hide_a_mismatch(
    backend: Backend, store: SqlAuditStore, statements: list[str], named: int
) -> None:
    """Batches of 5 records (1-5, 6-10, 11-12): rows added, removed or moved across a
    boundary, or past the last record, name the first record concerned."""
    for statement in statements:
        backend.execute(statement)
    report = verify_store(_Batched(store, store.indexed_batches(size=5)), {})
    assert (report.ok, report.sequence) == (False, named)
    assert "decision_entities" in report.columns
    assert verify(store).sequence == named  # the same with the store's own batches


class _Batched:
    """``store`` read in the given batches."""

    def __init__(self, store: SqlAuditStore, batches: Iterator[IndexedBatch]) -> None:
        self.store, self.given = store, batches

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def indexed_batches(self, after_sequence: int = 0) -> Iterator[IndexedBatch]:
        return self.given
