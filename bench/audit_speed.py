"""`make bench`: how fast `audit verify` checks a log and `replay` re-evaluates decisions.

A SQLite log of realistic records (about 1.5 KB each: contexts over a few tenants and
applications, findings drawn from common entity mixes, signed checkpoints every 1,000) is
generated deterministically and written in one transaction. Then:

* verify: :func:`verify_store` over the whole log (chain, the columns and side-table rows
  beside each record, checkpoints), records/s;
* replay: the shipped policies re-evaluate every decision read from the log with the
  embedded evaluator (reading included), decisions/s, with the number of distinct
  policy-visible inputs it had to evaluate;
* query read-back: every record read through the store's query (reading and parsing).

Targets (issue 5): verify >= 50,000 records/s, replay >= 5,000 decisions/s. Results are
printed and written to ``var/bench/audit_speed.json``.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

TENANTS = ["acme", "globex", "initech", "umbrella", "hooli", "stark"]
APPLICATIONS = ["support-bot", "code-assist", "hr-portal", "sales-notes", "search"]
FINDING_MIXES: list[list[tuple[str, str]]] = [
    [],
    [],
    [],
    [("EMAIL_ADDRESS", "pii")],
    [("PHONE_NUMBER", "pii")],
    [("EMAIL_ADDRESS", "pii"), ("PERSON", "pii")],
    [("US_SSN", "pii")],
    [("CREDIT_CARD", "pii")],
    [("AWS_ACCESS_KEY", "secret")],
    [("PRIVATE_KEY", "secret")],
    [("CONFIDENTIAL_MARKING", "ip_marker")],
    [("SOURCE_CODE", "source_code")],
]
SCORES = [0.4, 0.6, 0.85, 0.95, 1.0]


def digest(rng: random.Random) -> str:
    return "hmac-sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))


def make_entry(n: int, rng: random.Random) -> dict[str, Any]:
    findings = []
    for entity_type, category in rng.choice(FINDING_MIXES):
        count = rng.choice([1, 1, 1, 2, 3])
        findings.append(
            {
                "type": entity_type,
                "category": category,
                "count": count,
                "max_score": rng.choice(SCORES),
                "spans": [[i * 40, i * 40 + 11] for i in range(count)],
                "detector": f"builtin:{entity_type.lower()}",
                "value_digests": [digest(rng) for _ in range(count)],
            }
        )
    context: dict[str, Any] = {
        "tenant": rng.choice(TENANTS),
        "application": rng.choice(APPLICATIONS),
        "user": digest(rng),
    }
    if rng.random() < 0.2:
        context["declared_classification"] = rng.choice(["public", "internal", "confidential"])
    return {
        "decision_id": f"01BENCH{n:019d}",
        "time": f"2026-11-{1 + n * 20 // RECORDS:02d}T{n % 24:02d}:00:00.{n % 1_000_000:06d}Z",
        "caller": "key-0123456789ab",
        "context": context,
        "content_digest": digest(rng),
        "content_characters": rng.randint(40, 20_000),
        "findings": findings,
        "allowed_endpoints": ["onprem-qwen3-32b", "gpt-4o"],
        "recommended_endpoint": "onprem-qwen3-32b",
        "requested_endpoint_allowed": None,
        "excluded_endpoints": [{"id": "deepseek-v4-flash", "reasons": ["segment trusted_hosted"]}],
        "obligations": [],
        "policy_revision": "sha256:" + "ab" * 32,
        "engine_version": "0.1.0",
        "outcome": "decided",
        "latency_ms": round(rng.uniform(2, 90), 3),
    }


class _Tx:
    """A sqlite3 connection as the stores' transaction (policy_engine.audit.schema.Tx)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, tuple(params)).fetchall()

    def executemany(self, sql: str, rows: Any) -> None:
        self.db.executemany(sql, rows)


def build_log(path: Path) -> dict[str, Any]:
    from policy_engine.audit import GENESIS_HASH, SQLiteAuditStore, seal
    from policy_engine.audit.replay import policy_input_of
    from policy_engine.audit.schema import insert_record
    from policy_engine.audit.signing import load_or_create_signer
    from policy_engine.catalog import load_catalog
    from policy_engine.policy import EmbeddedEvaluator, load_policy_set
    from policy_engine.records import AuditRecord, Checkpoint

    evaluator = EmbeddedEvaluator(
        load_policy_set(
            ROOT / "policies",
            {"catalog": load_catalog(ROOT / "examples" / "catalog.yaml").policy_data()},
        )
    )
    signer = load_or_create_signer(path.parent / "audit-signing.key")
    SQLiteAuditStore(path).close()  # creates the schema
    rng = random.Random(20261124)
    decided: dict[str, Any] = {}
    db = sqlite3.connect(path)
    tx = _Tx(db)
    prev = GENESIS_HASH
    db.execute("BEGIN")
    for n in range(1, RECORDS + 1):
        entry = make_entry(n, rng)
        entry["segment"] = "any"
        policy_input = policy_input_of(AuditRecord.model_validate({**entry, "reasons": []}))
        key = json.dumps({**policy_input, "content": None}, sort_keys=True)
        if key not in decided:
            decided[key] = evaluator.evaluate(policy_input)
        result = decided[key]
        entry["segment"] = result.segment.value
        entry["reasons"] = [r.model_dump(mode="json") for r in result.reasons]
        record = seal(entry, n, prev)
        prev = record["hash"]
        insert_record(tx, record)  # the row, its columns and side-table rows, as appends do
        if n % 1000 == 0:
            unsigned = Checkpoint(n, prev, record["time"], signer.key_id, "")
            db.execute(
                "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?)",
                (n, prev, unsigned.time, signer.key_id, signer.sign(unsigned.message())),
            )
    db.execute("UPDATE audit_head SET sequence = ?, hash = ?", (RECORDS, prev))
    db.execute("COMMIT")
    db.close()
    return {"signer": signer}


def main() -> None:
    from policy_engine.audit import SQLiteAuditStore, verify_store
    from policy_engine.audit.replay import replay
    from policy_engine.catalog import load_catalog
    from policy_engine.policy import EmbeddedEvaluator, load_policy_set
    from policy_engine.policy.input_paths import input_members_read
    from policy_engine.records import AuditFilters, parse_time

    with tempfile.TemporaryDirectory(prefix="pe-bench-audit-") as tmp:
        path = Path(tmp) / "audit.db"
        started = time.perf_counter()
        parts = build_log(path)
        built = time.perf_counter() - started
        size = path.stat().st_size
        store = SQLiteAuditStore(path)
        signer = parts["signer"]

        newest = parse_time(store.checkpoints()[-1].time)  # verified as soon as written
        started = time.perf_counter()
        report = verify_store(store, {signer.key_id: signer.public_key}, now=newest)
        verify_seconds = time.perf_counter() - started
        assert report.ok and not report.warnings, report.summary()

        evaluator = EmbeddedEvaluator(
            load_policy_set(
                ROOT / "policies",
                {"catalog": load_catalog(ROOT / "examples" / "catalog.yaml").policy_data()},
            )
        )
        assert isinstance(evaluator, EmbeddedEvaluator)
        members = input_members_read(evaluator.policy_set.modules)
        started = time.perf_counter()
        replayed = replay(store.iter_query(AuditFilters()), evaluator, members_read=members)
        replay_seconds = time.perf_counter() - started
        distinct = _distinct(store.iter_query(AuditFilters()), members)
        started = time.perf_counter()
        read_back = sum(1 for _ in store.iter_query(AuditFilters()))
        read_seconds = time.perf_counter() - started
        store.close()

    results = {
        "records": RECORDS,
        "log_bytes": size,
        "build_seconds": round(built, 2),
        "verify_records_per_s": round(RECORDS / verify_seconds),
        "verify_checkpoints": report.checkpoints,
        "replay_decisions_per_s": round(RECORDS / replay_seconds),
        "replay_changed": replayed.changed,
        "replay_distinct_inputs_evaluated": distinct,
        "query_read_records_per_s": round(read_back / read_seconds),
    }
    print(f"audit log: {RECORDS} records, {size / 1e6:.1f} MB (SQLite)")
    print(f"  verify (chain + {report.checkpoints} checkpoints): "
          f"{results['verify_records_per_s']:>9,} records/s   (target >= 50,000)")  # fmt: skip
    print(f"  replay (embedded evaluator):         {results['replay_decisions_per_s']:>9,}"
          f" decisions/s (target >= 5,000; {results['replay_distinct_inputs_evaluated']}"
          " distinct policy-visible inputs evaluated)")  # fmt: skip
    print(f"  query read-back:                     {results['query_read_records_per_s']:>9,}"
          " records/s")  # fmt: skip
    assert replayed.changed == 0, "the shipped policies must reproduce their own decisions"
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "audit_speed.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out / 'audit_speed.json'}")


def _distinct(records: Iterable[dict[str, Any]], members: Any) -> int:
    from policy_engine.audit.replay import policy_input_of
    from policy_engine.policy.input_paths import projection_key

    return len({projection_key(policy_input_of(record), members) for record in records})


if __name__ == "__main__":
    main()
