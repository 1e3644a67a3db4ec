"""Fail closed: a detector or policy failure gives on_prem_only, outcome fail_closed, a reason,
and an audit record; a failed audit append gives no decision at all."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from policy_engine.audit import SQLiteAuditStore, verify_rows
from policy_engine.catalog import load_catalog
from policy_engine.digest import Digester
from policy_engine.engine import Engine
from policy_engine.errors import AuditError, DetectionError
from policy_engine.models import DetectedSpan, Segment
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from tests.audit_support import documents
from tests.conftest import GATEWAY_KEY, ROOT, bearer, start_server

CATALOG = load_catalog(ROOT / "examples" / "catalog.yaml")


class BrokenDetector:
    """A detector whose scan fails (as a regex timeout or a model error would)."""

    def detect(self, text: str) -> list[DetectedSpan]:
        raise DetectionError("detector yaml:secrets/api_key timed out")


class NothingDetector:
    def detect(self, text: str) -> list[DetectedSpan]:
        return []


def make_engine(tmp_path: Path, detector: object, policies: Path = ROOT / "policies") -> Engine:
    policy_set = load_policy_set(policies, {"catalog": CATALOG.policy_data()})
    return Engine(
        detector=detector,  # type: ignore[arg-type]
        evaluator=EmbeddedEvaluator(policy_set),
        catalog=CATALOG,
        audit_log=SQLiteAuditStore(tmp_path / "audit.db"),
        digester=Digester(b"t" * 32),
    )


def test_detector_failure_fails_closed_and_is_audited(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, BrokenDetector())
    decision = engine.decide({"content": "anything at all"})
    assert decision.segment is Segment.ON_PREM_ONLY
    assert decision.outcome == "fail_closed"
    assert decision.reasons[0].rule == "engine.detection_failed"
    assert "DetectionError" in decision.reasons[0].message
    # Provenance still applies: only verified on-prem endpoints remain.
    assert decision.allowed_endpoints == ["onprem-qwen3-32b"]
    (record,) = documents(engine.audit_log.records())
    assert record["outcome"] == "fail_closed"
    assert record["reasons"][0]["rule"] == "engine.detection_failed"


def test_policy_failure_fails_closed_with_no_endpoint(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    (policies / "conflict.rego").write_text(
        "package segmentation.rules.conflict\n\n"
        'isolation := {1} if input.context.tenant == "conflict"\n'
        'isolation := {2} if input.context.tenant == "conflict"\n'
    )
    engine = make_engine(tmp_path, NothingDetector(), policies)
    decision = engine.decide({"content": "hello", "context": {"tenant": "conflict"}})
    assert decision.segment is Segment.ON_PREM_ONLY
    assert decision.outcome == "fail_closed"
    assert [r.rule for r in decision.reasons] == ["engine.policy_failed"]
    assert decision.allowed_endpoints == []
    assert decision.recommended_endpoint is None
    assert all("policy evaluation failed" in e.reasons[0] for e in decision.excluded_endpoints)
    assert engine.audit_log.count() == 1


def test_failed_append_gives_no_decision(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, NothingDetector())
    engine.decide({"content": "first"})
    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute("DROP TABLE decisions")
    db.commit()
    with pytest.raises(AuditError):
        engine.decide({"content": "second"})


def test_service_answers_503_when_the_audit_log_fails(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv")
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
            ok = http.post("/decide", json={"content": "before the outage"})
            assert ok.status_code == 200
            db = sqlite3.connect(server.db_path)
            db.execute("ALTER TABLE decisions RENAME TO decisions_moved")
            db.commit()
            failed = http.post("/decide", json={"content": "during the outage"})
            assert failed.status_code == 503
            assert failed.json()["error"] == "audit_unavailable"
            assert "decision_id" not in failed.text
            db.execute("ALTER TABLE decisions_moved RENAME TO decisions")
            db.commit()
            again = http.post("/decide", json={"content": "after the outage"})
            assert again.status_code == 200
            assert again.json()["audit"]["sequence"] == ok.json()["audit"]["sequence"] + 1
        store = SQLiteAuditStore(server.db_path)
        assert verify_rows(store.rows()).ok
        store.close()
    finally:
        server.stop()
