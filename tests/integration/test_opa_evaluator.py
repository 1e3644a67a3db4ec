"""The ``opa`` evaluator and the bundle on a real OPA server: a stock ``opa run --bundle`` serves
what ``policy-engine build`` wrote; the service decides through OPA and fails closed (audited)
when OPA stops; it refuses to start without one."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from policy_engine.audit import SQLiteAuditStore
from policy_engine.catalog import load_catalog
from policy_engine.errors import PolicyError, PolicyLoadError
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.policy.opa import OpaEvaluator
from tests.audit_support import documents
from tests.conftest import ROOT, engine_env, free_port, run_cli, start_server
from tests.opa_server import start_opa

GATEWAY_KEY = "gateway-key-0123456789abcdef"
CATALOG = load_catalog(ROOT / "examples" / "catalog.yaml").policy_data()
SHIPPED = load_policy_set(ROOT / "policies", {"catalog": CATALOG})


def policy_input(context: dict[str, str], *types: tuple[str, str]) -> dict[str, Any]:
    findings = [
        {"type": t, "category": c, "count": 1, "max_score": 0.9, "detector": "t"} for t, c in types
    ]
    return {
        "context": context,
        "findings": findings,
        "entity_types": sorted(t for t, _ in types),
        "categories": sorted({c for _, c in types}),
        "content": {"characters": 100, "estimated_tokens": 25},
    }


def audit_records(path: Path) -> list[dict[str, Any]]:
    store = SQLiteAuditStore(path)
    try:
        return documents(store.records())
    finally:
        store.close()


INPUTS = [
    policy_input({}),
    policy_input({"application": "payroll"}, ("PERSON", "pii")),
    policy_input({"purpose": "analytics"}, ("EMAIL_ADDRESS", "pii")),
    policy_input({"declared_classification": "internal"}, ("AWS_ACCESS_KEY", "secret")),
]


def test_stock_opa_serves_the_built_bundle_unchanged(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.tar.gz"
    built = run_cli(tmp_path, "build", "--output", str(bundle))
    assert built.returncode == 0, built.stderr
    opa = start_opa(tmp_path, ["--bundle", str(bundle)])
    try:
        embedded = EmbeddedEvaluator(SHIPPED)
        for sample in INPUTS:
            answer = httpx.post(
                f"{opa.url}/v1/data/segmentation/decision", json={"input": sample}, timeout=10
            ).json()
            assert answer["result"] == embedded.evaluate(sample).model_dump(mode="json")
        bundles = httpx.get(f"{opa.url}/v1/data/system/bundles", timeout=10).json()["result"]
        (manifest,) = [b["manifest"] for b in bundles.values()]
        assert manifest["revision"] == SHIPPED.revision
    finally:
        opa.stop()


def test_opa_evaluator_pushes_replaces_and_decides(tmp_path: Path) -> None:
    opa = start_opa(tmp_path)
    try:
        evaluator = OpaEvaluator(SHIPPED, opa.url, timeout=5)
        assert evaluator.revision == SHIPPED.revision
        hr = evaluator.evaluate(INPUTS[1])
        assert hr.segment == "on_prem_only"
        assert "hr.personnel_records" in {r.rule for r in hr.reasons}
        # a set without the HR policy: its module is deleted from the server, and the first
        # evaluator no longer decides in its own name
        smaller = {k: v for k, v in SHIPPED.modules.items() if not k.endswith(".yaml")}
        reduced = OpaEvaluator(
            replace(SHIPPED, modules=smaller, revision="sha256:reduced"), opa.url, timeout=5
        )
        ids = [p["id"] for p in httpx.get(f"{opa.url}/v1/policies").json()["result"]]
        assert "policy-engine/rules/hr/hr.yaml.rego" not in ids
        assert "policy-engine/rules/isolation/isolation.rego" in ids
        assert "hr.personnel_records" not in {r.rule for r in reduced.evaluate(INPUTS[1]).reasons}
        with pytest.raises(PolicyError, match="another policy revision"):
            evaluator.evaluate(INPUTS[1])
    finally:
        opa.stop()
    with pytest.raises(PolicyError, match="failed"):
        reduced.evaluate(INPUTS[0])


def test_opa_evaluator_refuses_what_opa_refuses(tmp_path: Path) -> None:
    opa = start_opa(tmp_path)
    try:
        bad = "package segmentation.rules.bad\nx := y\n"
        broken = replace(SHIPPED, modules={**SHIPPED.modules, "rules/bad.rego": bad})
        with pytest.raises(PolicyLoadError, match=r"OPA refused rules/bad\.rego"):
            OpaEvaluator(broken, opa.url, timeout=5)
    finally:
        opa.stop()


def test_unreachable_opa_is_a_load_error() -> None:
    with pytest.raises(PolicyLoadError, match="PE_OPA_URL"):
        OpaEvaluator(SHIPPED, f"http://127.0.0.1:{free_port()}", timeout=1)


@pytest.mark.slow
def test_service_on_opa_fails_closed_and_audits_when_opa_stops(tmp_path: Path) -> None:
    opa = start_opa(tmp_path / "opa")
    env = {
        "PE_POLICY_BACKEND": "opa",
        "PE_OPA_URL": opa.url,
        "PE_OPA_TIMEOUT": "2",
        "PE_DETECTION_BACKEND": "patterns",
        "PE_BOOTSTRAP_KEYS": f"gateway:{GATEWAY_KEY}",
    }
    server = start_server(tmp_path / "svc", **env)
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    try:
        body = {"content": "write to jane@example.com", "context": {"purpose": "analytics"}}
        first = httpx.post(f"{server.url}/decide", json=body, headers=headers, timeout=30).json()
        assert first["outcome"] == "decided"
        assert first["obligations"] == ["redact:EMAIL_ADDRESS"]
        assert first["policy_revision"] == SHIPPED.revision
        opa.stop()
        second = httpx.post(f"{server.url}/decide", json=body, headers=headers, timeout=30).json()
        assert second["outcome"] == "fail_closed"
        assert second["segment"] == "on_prem_only"
        assert second["reasons"][0]["rule"] == "engine.policy_failed"
        assert second["allowed_endpoints"] == []
    finally:
        server.stop()
        opa.stop()
    records = audit_records(server.db_path)
    assert [r["outcome"] for r in records] == ["decided", "fail_closed"]
    assert "policy evaluation failed" in records[1]["reasons"][0]["message"]


def test_service_without_opa_refuses_to_start(tmp_path: Path) -> None:
    env = engine_env(
        tmp_path,
        PE_POLICY_BACKEND="opa",
        PE_OPA_URL=f"http://127.0.0.1:{free_port()}",
        PE_PORT=str(free_port()),
        PE_DETECTION_BACKEND="patterns",
    )
    done = subprocess.run(
        [sys.executable, "-m", "policy_engine.cli", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "cannot reach the OPA server" in done.stderr


def test_a_hanging_opa_times_out(tmp_path: Path) -> None:
    opa = start_opa(tmp_path)
    try:
        evaluator = OpaEvaluator(SHIPPED, opa.url, timeout=1)
        assert evaluator.evaluate(INPUTS[0]).segment == "any"
        opa.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
        try:
            with pytest.raises(PolicyError, match=r"failed \(\w*Timeout\)"):
                evaluator.evaluate(INPUTS[0])
        finally:
            opa.process.send_signal(signal.SIGCONT)
    finally:
        opa.stop()
