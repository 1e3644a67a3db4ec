"""The contract both audit stores (SQLite and PostgreSQL) pass: one suite, two databases."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from policy_engine.audit import (
    GENESIS_HASH,
    SQLiteAuditStore,
    canonical_json,
    seal,
    verify_store,
)
from policy_engine.audit.schema import schema_v1
from policy_engine.audit.signing import Signer, signature_valid
from policy_engine.errors import AuditError
from policy_engine.records import Attempt, AuditFilters, Delivery, Usage, utc_text
from tests.audit_support import Backend, documents, entry


def test_appends_form_a_chain_and_reopening_continues_it(backend: Backend) -> None:
    store = backend.open()
    for n in range(1, 4):
        store.append(entry(n))
    store.close()
    reopened = backend.open()
    record = reopened.append(entry(4)).document()
    records = documents(reopened.records())
    assert [r["sequence"] for r in records] == [1, 2, 3, 4]
    assert records[0]["prev_hash"] == GENESIS_HASH
    for before, after in itertools.pairwise(records):
        assert after["prev_hash"] == before["hash"]
    assert record == records[-1]
    assert reopened.head() == (4, record["hash"])
    assert reopened.count() == 4
    assert verify_store(reopened, {}).ok


def test_migrations_are_versioned_and_applied_once(backend: Backend) -> None:
    backend.open().close()
    backend.open().close()
    versions = backend.execute("SELECT version FROM schema_version ORDER BY version")
    assert [v for (v,) in versions] == [1, 2, 3]


def test_duplicate_decision_id_is_refused_and_the_chain_stays_intact(backend: Backend) -> None:
    store = backend.open()
    store.append(entry(1))
    with pytest.raises(AuditError):
        store.append(entry(1))
    store.append(entry(2))
    assert [r.sequence for r in store.records()] == [1, 2]
    assert verify_store(store, {}).ok


def test_closed_store_refuses_appends(backend: Backend) -> None:
    store = backend.open()
    store.close()
    with pytest.raises(AuditError):
        store.append(entry(1))


def test_concurrent_appends_from_many_connections_form_one_order(backend: Backend) -> None:
    stores = [backend.open() for _ in range(4)]
    errors: list[Exception] = []

    def work(index: int) -> None:
        try:
            for n in range(25):
                stores[index].append(entry(index * 1000 + n))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    records = list(stores[0].records())
    assert [r.sequence for r in records] == list(range(1, 101))
    assert len({r.decision_id for r in records}) == 100
    assert verify_store(stores[0], {}).ok


def _filled(backend: Backend, n: int = 60) -> list[dict[str, Any]]:
    store = backend.open()
    records = [store.append(entry(i)).document() for i in range(1, n + 1)]
    store.close()
    return records


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"tenant": "acme"}, lambda r: r["context"]["tenant"] == "acme"),
        ({"application": "app-1"}, lambda r: r["context"]["application"] == "app-1"),
        ({"segment": "on_prem_only"}, lambda r: r["segment"] == "on_prem_only"),
        ({"outcome": "fail_closed"}, lambda r: r["outcome"] == "fail_closed"),
        ({"rule": "isolation.sensitive_pii"}, lambda r: bool(r["reasons"])),
        ({"entity_type": "US_SSN"}, lambda r: bool(r["findings"])),
        ({"policy_revision": "sha256:rev3"}, lambda r: r["policy_revision"] == "sha256:rev3"),
        (
            {"since": "2026-11-10T10:00:30Z", "until": "2026-11-10T10:00:45Z"},
            lambda r: "2026-11-10T10:00:30" <= r["time"] < "2026-11-10T10:00:45",
        ),
        ({"since": "2026-11-10"}, lambda r: True),
        ({"tenant": "acme", "segment": "on_prem_only"},
         lambda r: r["context"]["tenant"] == "acme" and r["segment"] == "on_prem_only"),
        ({"tenant": "nobody"}, lambda r: False),
    ],
)  # fmt: skip
def test_query_filters_match_a_scan(backend: Backend, filters: dict[str, str], expected) -> None:  # type: ignore[no-untyped-def]
    records = _filled(backend)
    store = backend.open()
    got = documents(store.query(AuditFilters(**filters), limit=1000))
    want = [r for r in records if expected(r)]
    assert [r["decision_id"] for r in got] == [r["decision_id"] for r in want]
    assert got == want


def test_query_pages_by_sequence_without_gaps_or_repeats(backend: Backend) -> None:
    records = _filled(backend, 45)
    store = backend.open()
    seen: list[int] = []
    after = 0
    while True:
        page = documents(store.query(AuditFilters(), after_sequence=after, limit=10))
        if not page:
            break
        seen.extend(r["sequence"] for r in page)
        after = page[-1]["sequence"]
    assert seen == [r["sequence"] for r in records]
    assert [r.sequence for r in store.iter_query(AuditFilters(tenant="acme"), batch=4)] == [
        r["sequence"] for r in records if r["context"]["tenant"] == "acme"
    ]


def test_get_by_decision_id(backend: Backend) -> None:
    records = _filled(backend, 5)
    store = backend.open()
    found = store.get("d-00003")
    assert found is not None and found.document() == records[2]
    assert store.get("no-such-id") is None


def test_stats_count_segments_outcomes_rules_and_entity_types(backend: Backend) -> None:
    records = _filled(backend, 60)
    store = backend.open()
    stats = store.stats(AuditFilters(tenant="globex"))
    mine = [r for r in records if r["context"]["tenant"] == "globex"]
    assert stats["total"] == len(mine)
    counted = {
        (row["segment"], row["outcome"]): row["count"] for row in stats["by_segment_outcome"]
    }
    for key in {(r["segment"], r["outcome"]) for r in mine}:
        assert counted[key] == sum(1 for r in mine if (r["segment"], r["outcome"]) == key)
    assert sum(counted.values()) == len(mine)
    pii = sum(1 for r in mine if r["reasons"])
    assert stats["top_rules"] == (
        [{"rule": "isolation.sensitive_pii", "count": pii}] if pii else []
    )
    assert stats["top_entity_types"] == ([{"entity_type": "US_SSN", "count": pii}] if pii else [])
    assert stats["first_time"] == mine[0]["time"]


def test_sequence_range_and_digest_search(backend: Backend) -> None:
    records = _filled(backend, 30)
    store = backend.open()
    window = AuditFilters(since="2026-11-10T10:00:10Z", until="2026-11-10T10:00:20Z")
    assert store.sequence_range(window) == (10, 19)
    assert store.sequence_range(AuditFilters(tenant="nobody")) is None
    digest = records[4]["findings"][0]["value_digests"][0]
    found = list(store.containing(digest, AuditFilters()))
    assert [r.decision_id for r in found] == [records[4]["decision_id"]]
    with pytest.raises(AuditError):
        list(store.containing("x%' OR 1=1 --", AuditFilters()))


def test_checkpoints_every_n_records_are_signed_heads(backend: Backend, signer: Signer) -> None:
    store = backend.open(signer=signer, every=10)
    records = [store.append(entry(i, time=utc_text())).document() for i in range(1, 26)]
    checkpoints = store.checkpoints()
    assert [c.sequence for c in checkpoints] == [10, 20]
    for checkpoint in checkpoints:
        assert checkpoint.hash == records[checkpoint.sequence - 1]["hash"]
        assert checkpoint.key_id == signer.key_id
        assert signature_valid(signer.public_key, checkpoint.message(), checkpoint.signature)
    forced = store.checkpoint(force=True)
    assert forced is not None and forced.sequence == 25
    assert store.checkpoint(force=True) is None  # the head did not move
    assert [c.sequence for c in store.checkpoints(first=15, last=25)] == [20, 25]
    report = verify_store(store, {signer.key_id: signer.public_key})
    assert report.ok and report.checkpoints == 3


def test_checkpoint_after_t_seconds_even_without_appends(backend: Backend, signer: Signer) -> None:
    store = backend.open(signer=signer, every=1000, seconds=0.3)
    store.append(entry(1, time=utc_text()))
    store.append(entry(2, time=utc_text()))
    assert store.checkpoints() == []
    store.start_checkpoint_timer()
    deadline = threading.Event()
    for _ in range(50):
        if store.checkpoints():
            break
        deadline.wait(0.1)
    store.close()
    assert [c.sequence for c in backend.open().checkpoints()] == [2]


def test_a_version_1_sqlite_log_is_upgraded_in_place(tmp_path: Path) -> None:
    """A log written before checkpoints and filter columns existed keeps working."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for sql in [*schema_v1("INTEGER"), "CREATE TABLE schema_version (version INTEGER)"]:
        db.execute(sql)
    db.execute("INSERT INTO schema_version VALUES (1)")
    prev = GENESIS_HASH
    for n in (1, 2, 3):
        record = seal(entry(n).document(), n, prev)
        prev = record["hash"]
        db.execute(
            "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (n, record["decision_id"], record["time"], record["segment"], record["outcome"],
             canonical_json(record), prev),
        )  # fmt: skip
    db.commit()
    db.close()
    store = SQLiteAuditStore(path)
    assert store.head() == (3, prev)
    assert [r.sequence for r in store.query(AuditFilters(tenant="globex"))] == [1]
    assert [r.sequence for r in store.query(AuditFilters(rule="isolation.sensitive_pii"))] == [2]
    assert store.append(entry(4)).prev_hash == prev
    assert {kind for (kind,) in db_kinds(path)} == {"decision"}
    assert verify_store(store, {}).ok


def test_delivery_records_share_the_chain_and_are_counted_apart(backend: Backend) -> None:
    """Queries, stats and ranges count decisions unless asked for deliveries (kind)."""
    store = backend.open()
    decided = store.append(entry(3))
    delivery = Delivery(
        endpoint="onprem-qwen3-32b", upstream_model="Qwen/Qwen3-32B",
        attempts=[Attempt(endpoint="onprem-qwen3-32b", result="ok", status=200, latency_ms=9.5)],
        usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15),
        stream=False, masked_types=[], tier=None,
    )  # fmt: skip
    delivered = store.append(decided.delivered(delivery, decision_id="d-delivery", latency_ms=20))
    store.append(entry(4))
    document = delivered.document()
    assert document["kind"] == "delivery" and document["delivers"] == decided.decision_id
    assert document["findings"] == [] and document["segment"] == decided.segment.value
    assert document["context"] == decided.document()["context"]
    assert "kind" not in decided.document()
    assert [r.sequence for r in store.query(AuditFilters())] == [1, 3]
    assert [r.sequence for r in store.query(AuditFilters(kind="delivery"))] == [2]
    assert [r.sequence for r in store.query(AuditFilters(kind="all"))] == [1, 2, 3]
    assert store.stats(AuditFilters())["total"] == 2
    assert store.stats(AuditFilters(kind="delivery"))["total"] == 1
    assert store.sequence_range(AuditFilters(kind="delivery")) == (2, 2)
    read = store.get("d-delivery")
    assert read is not None and read.delivery == delivery
    assert verify_store(store, {}).ok
    assert backend.execute("SELECT kind FROM decisions ORDER BY sequence") == [
        ("decision",), ("delivery",), ("decision",)
    ]  # fmt: skip


def db_kinds(path: Path) -> list[tuple[str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT kind FROM decisions").fetchall()
