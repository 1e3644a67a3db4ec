"""Serving policies safely, over HTTP on a real server: hot reload (API, SIGHUP, watching) that
tests the candidate first and swaps atomically, shadow mode, and /decide?explain=true."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from policy_engine.audit import SQLiteAuditStore
from tests.audit_support import documents
from tests.conftest import ROOT, Server, start_server
from tests.opa_server import start_opa

pytestmark = pytest.mark.slow

ADMIN = "admin-key-0123456789abcdef"
AUDITOR = "auditor-key-0123456789abcdef"
GATEWAY = "gateway-key-0123456789abcdef"
KEYS = f"admin:{ADMIN},auditor:{AUDITOR},gateway:{GATEWAY}"

# A rule only the candidate sets have: the kiosk application goes on-prem.
SUPPORT_RULE = """\
  - id: hr.kiosk_on_prem
    message: the kiosk stays on-prem for now
    when:
      context: {application: [kiosk]}
    segment: on_prem_only
"""
SMALL_TEST = """\
package segmentation_test.extra

test_segments_are_ordered if {
	data.segmentation.segment_names == ["any", "trusted_hosted", "on_prem_only"]
}
"""


def policy_copy(target: Path) -> Path:
    """The shipped policies with a quick Rego test instead of the full suite (a reload runs
    the candidate's tests; the shipped suite has its own tests elsewhere)."""
    shutil.copytree(ROOT / "policies", target)
    for path in target.rglob("*_test.rego"):
        path.unlink()
    (target / "extra_test.rego").write_text(SMALL_TEST)
    return target


def add_support_rule(policies: Path) -> None:
    hr = policies / "rules" / "hr" / "hr.yaml"
    hr.write_text(hr.read_text() + SUPPORT_RULE)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def decide(server: Server, application: str = "kiosk", **query: str) -> dict[str, Any]:
    body = {"content": "How do I reset my password?", "context": {"application": application}}
    response = httpx.post(
        f"{server.url}/decide", json=body, params=query, headers=auth(GATEWAY), timeout=30
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def revision(server: Server) -> str:
    answer = httpx.get(f"{server.url}/policies", headers=auth(AUDITOR), timeout=10)
    assert answer.status_code == 200
    return str(answer.json()["revision"])


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def serve(tmp_path: Path, policies: Path, **env: str) -> Server:
    """The service on ``policies``, with the test keys and the pattern detectors."""
    return start_server(
        tmp_path / "svc",
        PE_POLICIES_DIR=str(policies),
        PE_BOOTSTRAP_KEYS=KEYS,
        PE_DETECTION_BACKEND="patterns",
        **env,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    policies = policy_copy(tmp_path / "policies")
    server = serve(tmp_path, policies)
    yield server, policies
    server.stop()


def test_reload_needs_an_admin_key(served: tuple[Server, Path]) -> None:
    server, _ = served
    url = f"{server.url}/policies/reload"
    assert httpx.post(url, timeout=10).status_code == 401
    assert httpx.post(url, headers=auth(AUDITOR), timeout=10).status_code == 403
    unchanged = httpx.post(url, headers=auth(ADMIN), timeout=120)
    assert unchanged.status_code == 200
    assert unchanged.json()["status"] == "unchanged"


def test_reload_applies_a_tested_set_atomically(served: tuple[Server, Path]) -> None:
    server, policies = served
    old = revision(server)
    assert decide(server)["segment"] == "any"
    add_support_rule(policies)

    seen: list[tuple[str, str]] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            answer = decide(server)
            seen.append((answer["policy_revision"], answer["segment"]))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        reloaded = httpx.post(f"{server.url}/policies/reload", headers=auth(ADMIN), timeout=300)
    finally:
        time.sleep(0.5)
        stop.set()
        worker.join()
    assert reloaded.status_code == 200, reloaded.text
    body = reloaded.json()
    assert body["status"] == "applied" and body["previous_revision"] == old
    new = body["revision"]
    assert new != old and revision(server) == new
    assert body["tests_run"] >= 8  # the quick Rego test and the HR YAML cases
    # every decision was made by exactly one of the two sets, and says which
    assert {rev for rev, _ in seen} <= {old, new}
    assert any(rev == old for rev, _ in seen)  # traffic ran while the candidate was tested
    for rev, segment in seen:
        assert segment == ("any" if rev == old else "on_prem_only")
    after = decide(server)
    assert (after["policy_revision"], after["segment"]) == (new, "on_prem_only")
    assert after["reasons"][0]["rule"] == "hr.kiosk_on_prem"
    records = documents(SQLiteAuditStore(server.db_path).records())
    assert {r["policy_revision"] for r in records} == {old, new}


def test_a_set_failing_its_tests_is_rejected_and_the_old_one_serves(
    served: tuple[Server, Path],
) -> None:
    server, policies = served
    old = revision(server)
    add_support_rule(policies)
    cases = policies / "rules" / "hr" / "hr_test.yaml"
    cases.write_text(
        cases.read_text()
        + "\n  - name: kiosk stays hosted\n    context: {application: kiosk}\n"
        + "    expect: {segment: any}\n"
    )
    rejected = httpx.post(f"{server.url}/policies/reload", headers=auth(ADMIN), timeout=300)
    assert rejected.status_code == 422
    body = rejected.json()
    assert body["error"] == "policies_rejected"
    assert old in body["message"]
    problems = [d["problem"] for d in body["details"]]
    assert problems == [
        "rules/hr/hr_test.yaml: kiosk stays hosted: segment: expected any, got on_prem_only"
        " (rules fired: hr.kiosk_on_prem, provenance.unverified_weights)"
    ]
    assert revision(server) == old
    assert decide(server)["segment"] == "any"


def test_a_set_that_does_not_load_is_rejected_with_file_and_line(
    served: tuple[Server, Path],
) -> None:
    server, policies = served
    old = revision(server)
    hr = policies / "rules" / "hr" / "hr.yaml"
    hr.write_text(hr.read_text().replace("segment: on_prem_only", "segment: onprem", 1))
    rejected = httpx.post(f"{server.url}/policies/reload", headers=auth(ADMIN), timeout=300)
    assert rejected.status_code == 422
    (detail,) = rejected.json()["details"]
    assert detail["problem"].startswith(f"{hr}:15: field 'rules[0].segment'")
    assert revision(server) == old


def test_sighup_reloads(served: tuple[Server, Path]) -> None:
    server, policies = served
    old = revision(server)
    add_support_rule(policies)
    server.process.send_signal(signal.SIGHUP)
    wait_for(lambda: revision(server) != old)
    assert decide(server)["segment"] == "on_prem_only"
    assert "policies_reload" in server.log_text() and '"trigger": "sighup"' in server.log_text()


def test_watching_reloads_on_change(tmp_path: Path) -> None:
    policies = policy_copy(tmp_path / "policies")
    server = serve(tmp_path, policies, PE_POLICIES_WATCH="true", PE_POLICIES_WATCH_INTERVAL="0.5")
    try:
        old = revision(server)
        add_support_rule(policies)
        wait_for(lambda: revision(server) != old)
        assert decide(server)["segment"] == "on_prem_only"
    finally:
        server.stop()


def test_shadow_mode_counts_and_audits_differences_without_changing_answers(
    tmp_path: Path,
) -> None:
    active = policy_copy(tmp_path / "active")
    candidate = policy_copy(tmp_path / "candidate")
    add_support_rule(candidate)
    server = serve(tmp_path, active, PE_SHADOW_POLICIES_DIR=str(candidate))
    try:
        differing = decide(server, application="kiosk")
        same = decide(server, application="wiki")
        assert differing["segment"] == "any"  # the active set answers
        stats = httpx.get(f"{server.url}/policies/shadow", headers=auth(ADMIN), timeout=10)
        assert httpx.get(f"{server.url}/policies/shadow", headers=auth(AUDITOR)).status_code == 403
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    finally:
        server.stop()
    body = stats.json()
    assert body["enabled"] is True
    assert (body["evaluated"], body["differing"], body["errors"]) == (2, 1, 0)
    assert body["revision"] != body["active_revision"]
    records = {r["decision_id"]: r for r in documents(SQLiteAuditStore(server.db_path).records())}
    assert records[differing["decision_id"]]["shadow"] == {
        "revision": body["revision"],
        "segment": "on_prem_only",
        "differs": True,
        "differences": ["segment"],
    }
    assert records[same["decision_id"]]["shadow"]["differs"] is False
    assert "shadow_differs" in server.log_text()
    assert "policy_engine_policy_shadow_evaluations_total 2.0" in metrics
    assert "policy_engine_policy_shadow_differing_total 1.0" in metrics
    assert "policy_engine_policy_shadow_errors_total 0.0" in metrics


def test_explain_on_request_only(served: tuple[Server, Path]) -> None:
    server, _ = served
    plain = decide(server, application="payroll")
    assert "explanation" not in plain
    explained = decide(server, application="payroll", explain="true")
    assert set(explained) - set(plain) == {"explanation"}
    explanation = explained["explanation"]
    (rule,) = [r for r in explanation["rules"] if r["rule"] == "hr.no_inadequate_jurisdiction"]
    assert rule["effect"] == "exclude"
    assert rule["messages"] == ["HR requests never go to an endpoint outside the EU, US or UK"]
    endpoints = {e["id"]: e for e in explanation["endpoints"]}
    assert endpoints["deepseek-v4-flash"]["allowed"] is False
    assert any(
        w.startswith("hr.no_inadequate_jurisdiction: ")
        for w in endpoints["deepseek-v4-flash"]["why"]
    )
    assert endpoints[explained["recommended_endpoint"]]["recommended"] is True
    bad = httpx.post(
        f"{server.url}/decide",
        params={"explain": "maybe"},
        json={"content": "x"},
        headers=auth(GATEWAY),
        timeout=10,
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"


def test_reload_on_the_opa_backend_pushes_the_new_set(tmp_path: Path) -> None:
    opa = start_opa(tmp_path / "opa")
    policies = policy_copy(tmp_path / "policies")
    server = serve(tmp_path, policies, PE_POLICY_BACKEND="opa", PE_OPA_URL=opa.url)
    try:
        old = revision(server)
        assert decide(server)["segment"] == "any"
        add_support_rule(policies)
        reloaded = httpx.post(f"{server.url}/policies/reload", headers=auth(ADMIN), timeout=300)
        assert reloaded.status_code == 200, reloaded.text
        after = decide(server)
        assert after["policy_revision"] == reloaded.json()["revision"] != old
        assert after["segment"] == "on_prem_only"
        served = httpx.post(
            f"{opa.url}/v1/data/segmentation/decision",
            json={"input": {"context": {"application": "kiosk"}}},
            timeout=10,
        ).json()["result"]
        assert served["segment"] == "on_prem_only"  # the OPA server holds the new set
    finally:
        server.stop()
        opa.stop()
