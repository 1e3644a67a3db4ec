"""Planted sensitive values never reach the engine's log events (structlog capture)."""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from policy_engine import Engine
from tests.conftest import in_process_settings

SSN = "536-22-8190"
EMAIL = "maria.keller@contoso-mail.com"
AWS_KEY = "AKIAZ7QW3RT5LM2XNB4Y"
USER = "u-planted-4711"
PLANTED = [SSN, EMAIL, AWS_KEY, USER]


def test_decisions_log_types_and_ids_but_no_values(tmp_path: Path) -> None:
    settings = in_process_settings(tmp_path, detection_backend="patterns", scan_deadline_seconds=60)
    text = f"SSN {SSN}, mail {EMAIL}, aws_access_key_id = {AWS_KEY}"
    with Engine.from_settings(settings) as engine, capture_logs() as events:
        decision = engine.decide({"content": text, "context": {"user": USER}}, caller="key-x")
        engine.detector = BrokenDetector()
        engine.scanner.detector = engine.detector
        failed = engine.decide({"content": text}, caller="key-x")
    assert failed.outcome == "fail_closed"
    logged = [e for e in events if e["event"] == "decision"]
    assert [e["decision_id"] for e in logged] == [decision.decision_id, failed.decision_id]
    assert {"US_SSN", "EMAIL_ADDRESS", "AWS_ACCESS_KEY"} <= set(logged[0]["entity_types"])
    assert any(e["event"] == "detection_failed" for e in events)
    rendered = repr(events)
    for value in PLANTED:
        assert value not in rendered


class BrokenDetector:
    """Fails with a message that quotes the text, as a careless library might."""

    def detect(self, text: str) -> list[object]:
        raise ValueError(f"cannot parse {text!r}")
