"""Prometheus metrics: what a decision adds, and the policy revision read at scrape time."""

from __future__ import annotations

from policy_engine.metrics import Metrics
from policy_engine.observe import DecisionSummary, Timings


def test_decisions_rules_entities_latency_and_revision_are_exposed() -> None:
    revision = ["sha256:one"]
    metrics = Metrics(lambda: revision[0])
    summary = DecisionSummary(
        segment="on_prem_only",
        outcome="fail_closed",
        rules=["scan_timeout", "isolation.secrets"],
        entity_types=["AWS_ACCESS_KEY"],
        fail_closed_rules=["scan_timeout"],
    )
    metrics.decided(summary, Timings(detection=0.5, evaluation=0.001, audit=0.002, total=0.51))
    metrics.audit_failed()
    metrics.auth_failed(401, "invalid_key")
    revision[0] = "sha256:two"
    text = metrics.render().decode()
    assert 'policy_engine_decisions_total{outcome="fail_closed",segment="on_prem_only"} 1.0' in text
    assert 'policy_engine_rules_fired_total{rule="isolation.secrets"} 1.0' in text
    assert 'policy_engine_entity_types_found_total{entity_type="AWS_ACCESS_KEY"} 1.0' in text
    assert 'policy_engine_fail_closed_total{reason="scan_timeout"} 1.0' in text
    assert "policy_engine_audit_failures_total 1.0" in text
    assert 'policy_engine_auth_failures_total{error="invalid_key",status="401"} 1.0' in text
    assert 'policy_engine_detection_seconds_bucket{le="0.5"} 1.0' in text
    assert "policy_engine_decision_seconds_count 1.0" in text
    assert 'revision="sha256:two"' in text and "sha256:one" not in text


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(lambda: "r"), Metrics(lambda: "r")
    first.audit_failed()
    assert "policy_engine_audit_failures_total 1.0" in first.render().decode()
    assert "policy_engine_audit_failures_total 0.0" in second.render().decode()
