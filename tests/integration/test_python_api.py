"""The Python API gateways embed: same decision as the service, audited the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from policy_engine import Engine, Segment
from policy_engine.audit import verify_rows
from policy_engine.errors import LimitExceeded, RequestError
from policy_engine.settings import load_settings
from tests.audit_support import documents
from tests.conftest import in_process_settings

REQUESTS: list[dict[str, Any]] = [
    {"content": "Customer John Smith, SSN 536-22-8190, asked about his card."},
    {"content": "Write a haiku about spring."},
    {"messages": [{"role": "user", "content": "Mail bob.jones@example.org the minutes."}]},
    {"content": "What is our refund policy?", "context": {"declared_classification": "internal"}},
]
COMPARED = (
    "segment",
    "allowed_endpoints",
    "recommended_endpoint",
    "findings",
    "reasons",
    "excluded_endpoints",
    "policy_revision",
    "outcome",
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    workdir = tmp_path_factory.mktemp("api")
    settings = in_process_settings(workdir)
    with Engine.from_settings(settings) as built:
        yield built


@pytest.mark.parametrize("request_body", REQUESTS)
def test_same_decision_as_the_service(
    engine: Engine, client: httpx.Client, request_body: dict[str, Any]
) -> None:
    embedded = engine.decide(request_body).model_dump(mode="json")
    served = client.post("/decide", json=request_body).json()
    for key in COMPARED:
        assert embedded[key] == served[key], key


def test_embedded_decisions_are_audited_and_chained(engine: Engine) -> None:
    before = engine.audit_log.count()
    decision = engine.decide({"content": "Hello there"}, caller="gateway-7")
    assert decision.segment is Segment.ANY
    assert engine.audit_log.count() == before + 1
    last = documents(engine.audit_log.records(after_sequence=before))[-1]
    assert last["decision_id"] == decision.decision_id
    assert last["caller"] == "gateway-7"
    assert last["hash"] == decision.audit.hash
    assert verify_rows(engine.audit_log.rows()).ok


def test_invalid_request_raises_request_error(engine: Engine) -> None:
    with pytest.raises(RequestError, match="content"):
        engine.decide({"content": ""})


def test_user_is_stored_as_a_keyed_digest(engine: Engine) -> None:
    decision = engine.decide({"content": "hi", "context": {"user": "alice@corp"}})
    record = next(
        r for r in documents(engine.audit_log.records()) if r["decision_id"] == decision.decision_id
    )
    assert record["context"]["user"].startswith("hmac-sha256:")
    assert "alice@corp" not in str(record)


def test_engine_settings_paths_are_used(tmp_path: Path) -> None:
    settings = load_settings(
        audit_url=f"sqlite:///{tmp_path / 'elsewhere.db'}", hmac_key_file=tmp_path / "k"
    )
    with Engine.from_settings(settings) as built:
        built.decide({"content": "ping"})
    assert (tmp_path / "elsewhere.db").exists()


def test_record_keeps_the_correlation_ids_and_the_detector_revision(engine: Engine) -> None:
    decision = engine.decide({"content": "hi"}, correlation={"litellm_call_id": "call-42"})
    plain = engine.decide({"content": "hi again"})
    records = {r["decision_id"]: r for r in documents(engine.audit_log.records())}
    assert records[decision.decision_id]["correlation"] == {"litellm_call_id": "call-42"}
    assert "correlation" not in records[plain.decision_id]
    revision = records[decision.decision_id]["detector_revision"]
    assert revision and revision == decision.detector_revision
    assert records[decision.decision_id]["record_version"] == 3


def test_python_api_holds_requests_to_the_configured_limits(tmp_path: Path) -> None:
    settings = in_process_settings(
        tmp_path, detection_backend="patterns", max_messages=2, strict_mode=True
    )
    with Engine.from_settings(settings) as limited:
        with pytest.raises(LimitExceeded) as too_many:
            limited.decide({"messages": [{"role": "user", "content": "hi"}] * 3})
        assert (too_many.value.status, too_many.value.code) == (413, "too_many_messages")
        with pytest.raises(LimitExceeded) as unknown:
            limited.decide({"messages": [{"role": "user", "content": "hi", "mood": "x"}]})
        assert unknown.value.code == "unknown_field"
