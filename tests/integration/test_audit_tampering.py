"""Each kind of tampering, done directly in the database, is named by verify (both stores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_engine.audit import record_hash, seal, verify_store
from policy_engine.audit.signing import Signer, load_or_create_signer
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.audit.verify import VerifyReport
from policy_engine.records import Checkpoint, utc_text
from tests.audit_support import Backend, entry


@pytest.fixture()
def store(backend: Backend, signer: Signer) -> SqlAuditStore:
    """22 records; signed checkpoints at 5, 10, 15, 20."""
    s = backend.open(signer=signer, every=5)
    for n in range(1, 23):
        s.append(entry(n, time=utc_text()))
    assert [c.sequence for c in s.checkpoints()] == [5, 10, 15, 20]
    return s


def verify(store: SqlAuditStore, signer: Signer) -> VerifyReport:
    return verify_store(store, {signer.key_id: signer.public_key})


def record_at(backend: Backend, sequence: int) -> dict[str, object]:
    text = backend.execute("SELECT record FROM decisions WHERE sequence = ?", sequence)[0][0]
    result: dict[str, object] = json.loads(text)
    return result


def test_intact_log_verifies_with_its_checkpoints(store: SqlAuditStore, signer: Signer) -> None:
    report = verify(store, signer)
    assert report.ok, report.summary()
    assert report.summary() == "OK: 22 records, hash chain intact, 4 signed checkpoints valid"


def test_edited_record(backend: Backend, store: SqlAuditStore, signer: Signer) -> None:
    record = record_at(backend, 7)
    record["segment"] = "any" if record["segment"] != "any" else "on_prem_only"
    backend.execute("UPDATE decisions SET record = ? WHERE sequence = 7", json.dumps(record))
    report = verify(store, signer)
    assert (report.ok, report.sequence, report.problem) == (False, 7, "edited")


def test_deleted_record(backend: Backend, store: SqlAuditStore, signer: Signer) -> None:
    backend.execute("DELETE FROM decisions WHERE sequence = 8")
    report = verify(store, signer)
    assert (report.sequence, report.problem) == (8, "missing")
    assert "record 8 is missing" in report.summary()


def test_reordered_pair(backend: Backend, store: SqlAuditStore, signer: Signer) -> None:
    third, fourth = (json.dumps(record_at(backend, n)) for n in (3, 4))
    backend.execute("UPDATE decisions SET record = ? WHERE sequence = 3", fourth)
    backend.execute("UPDATE decisions SET record = ? WHERE sequence = 4", third)
    report = verify(store, signer)
    assert (report.sequence, report.problem) == (3, "reordered")
    assert "position 3 holds record 4" in report.detail


def test_truncated_tail_behind_a_checkpoint(
    backend: Backend, store: SqlAuditStore, signer: Signer
) -> None:
    """The tamperer removes 18..22 (their side-table rows too) and even rewinds the head
    row: checkpoint 20 remains."""
    for table in ("decisions", "decision_rules", "decision_entities"):
        backend.execute(f"DELETE FROM {table} WHERE sequence > 17")
    backend.execute("UPDATE audit_head SET sequence = 17")
    report = verify(store, signer)
    assert (report.ok, report.problem, report.sequence) == (False, "truncated", 20)
    assert "records 18..20 were removed" in report.detail


def test_truncated_tail_after_the_last_checkpoint_is_seen_by_the_head_row(
    backend: Backend, store: SqlAuditStore, signer: Signer
) -> None:
    backend.execute("DELETE FROM decisions WHERE sequence > 20")
    report = verify(store, signer)
    assert (report.problem, report.sequence) == ("truncated", 22)
    assert "head row" in report.detail


def test_forged_checkpoint(backend: Backend, store: SqlAuditStore, signer: Signer) -> None:
    backend.execute("UPDATE checkpoints SET sequence = 12 WHERE sequence = 10")
    report = verify(store, signer)
    assert (report.problem, report.sequence) == ("forged_checkpoint", 12)
    assert "signature does not verify" in report.detail


def test_checkpoint_signed_by_another_key(
    backend: Backend, store: SqlAuditStore, signer: Signer, tmp_path: Path
) -> None:
    intruder = load_or_create_signer(tmp_path / "intruder.key")
    head = record_at(backend, 22)
    unsigned = Checkpoint(22, str(head["hash"]), utc_text(), intruder.key_id, "")
    backend.execute(
        "INSERT INTO checkpoints (sequence, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)",
        22,
        unsigned.hash,
        unsigned.time,
        intruder.key_id,
        intruder.sign(unsigned.message()),
    )
    report = verify(store, signer)
    assert (report.problem, report.sequence) == ("forged_checkpoint", 22)
    assert "not a trusted key" in report.detail


def test_rewritten_chain_is_caught_by_a_checkpoint(
    backend: Backend, store: SqlAuditStore, signer: Signer
) -> None:
    """Editing record 12 (and its segment column) and re-sealing every record after it
    keeps the chain and the columns consistent; the signed checkpoint at 15 does not match
    any more."""
    prev = str(record_at(backend, 11)["hash"])
    for sequence in range(12, 23):
        record = record_at(backend, sequence)
        if sequence == 12:
            record["segment"] = "trusted_hosted" if record["segment"] == "any" else "any"
        body = {k: v for k, v in record.items() if k not in ("hash", "prev_hash", "sequence")}
        resealed = seal(body, sequence, prev)
        assert resealed["hash"] == record_hash(resealed)
        backend.execute(
            "UPDATE decisions SET record = ?, hash = ?, segment = ? WHERE sequence = ?",
            json.dumps(resealed, sort_keys=True, separators=(",", ":")),
            resealed["hash"],
            resealed["segment"],
            sequence,
        )
        prev = resealed["hash"]
    report = verify(store, signer)
    assert (report.problem, report.sequence) == ("checkpoint_mismatch", 15)
