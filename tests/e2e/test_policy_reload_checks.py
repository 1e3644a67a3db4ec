"""What a reload refuses and retries, over HTTP on a real server: a policy set that uses an
entity type the running detectors cannot report (detectors load at start only), and a
shadow candidate that was refused (its reason shown, tried again on reload)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.e2e.test_policy_admin_http import (
    ADMIN,
    AUDITOR,
    add_support_rule,
    auth,
    decide,
    policy_copy,
    revision,
    serve,
    wait_for,
)

pytestmark = pytest.mark.slow

ACME_DETECTOR = """\
version: 1
recognizers:
  - id: acme_ids
    entity_type: ACME_ID
    category: pii
    patterns:
      - {name: acme, regex: 'ACME-\\d{6}', score: 0.9}
"""
ACME_YAML_RULE = """\
  - id: hr.acme_ids
    message: ACME ids stay on-prem
    when:
      entity_types: [ACME_ID]
    segment: on_prem_only
"""
ACME_REGO = """\
package segmentation.rules.acme

# "TRAINING" looks like an entity type too, but no detector anywhere reports it.
isolation contains {"rule": "acme.ids", "segment": "on_prem_only", "message": "m"} if {
	some t in input.entity_types
	t == "ACME_ID"
	input.context.purpose != "TRAINING"
}
"""


def reload(server_url: str) -> httpx.Response:
    return httpx.post(f"{server_url}/policies/reload", headers=auth(ADMIN), timeout=300)


def test_reload_refuses_entity_types_the_running_detectors_cannot_report(
    tmp_path: Path,
) -> None:
    policies = policy_copy(tmp_path / "policies")
    detectors = tmp_path / "detectors"
    shutil.copytree(ROOT / "detectors", detectors)
    server = serve(tmp_path, policies, PE_DETECTORS_DIR=str(detectors))
    try:
        old = revision(server)
        # A new detector and rules that use its type: the detector cannot load without a
        # restart, so the rules would never fire.
        (detectors / "acme.yaml").write_text(ACME_DETECTOR)
        hr = policies / "rules" / "hr" / "hr.yaml"
        hr.write_text(hr.read_text() + ACME_YAML_RULE)
        (policies / "rules" / "acme").mkdir()
        (policies / "rules" / "acme" / "acme.rego").write_text(ACME_REGO)
        refused = reload(server.url)
        assert refused.status_code == 422, refused.text
        problems = [d["problem"] for d in refused.json()["details"]]
        assert len(problems) == 2, problems
        yaml_problem, rego_problem = sorted(problems, key=lambda p: "acme.rego" in p)
        assert yaml_problem.startswith(
            f"{hr}: rule hr.acme_ids uses entity type ACME_ID, which the running detectors"
            " cannot report"
        )
        assert "restart the service" in yaml_problem
        assert rego_problem.startswith(
            f"{policies / 'rules' / 'acme' / 'acme.rego'}:6: rule"
            " segmentation.rules.acme.isolation uses entity type ACME_ID"
        )
        assert revision(server) == old
        # A typo is refused too, with a suggestion; without the unknown types it applies.
        (policies / "rules" / "acme" / "acme.rego").unlink()
        hr.write_text(hr.read_text().replace("[ACME_ID]", "[IBAN]"))
        typo = reload(server.url)
        assert typo.status_code == 422
        assert "entity type IBAN" in typo.text and "(did you mean IBAN_CODE?)" in typo.text
        hr.write_text(hr.read_text().replace("[IBAN]", "[IBAN_CODE]"))
        applied = reload(server.url)
        assert applied.status_code == 200, applied.text
        assert applied.json()["status"] == "applied"
    finally:
        server.stop()


FAILING_TEST = """\
package segmentation_test.failing

test_the_kiosk_stays_any if {
	data.segmentation.segment_names[0] == "on_prem_only"
}
"""


def test_a_refused_shadow_shows_why_and_a_reload_retries_it(tmp_path: Path) -> None:
    active = policy_copy(tmp_path / "active")
    candidate = policy_copy(tmp_path / "candidate")
    add_support_rule(candidate)
    (candidate / "failing_test.rego").write_text(FAILING_TEST)
    server = serve(tmp_path, active, PE_SHADOW_POLICIES_DIR=str(candidate))
    try:
        shadow = httpx.get(f"{server.url}/policies/shadow", headers=auth(ADMIN), timeout=10)
        body = shadow.json()
        assert body["enabled"] is False and body["directory"] == str(candidate)
        reason = body["refused"]["reason"]
        assert "shadow policy set refused, its tests fail" in reason
        assert "segmentation_test.failing.test_the_kiosk_stays_any" in reason
        assert 'got "any", expected "on_prem_only"' in reason
        assert body["refused"]["revision"].startswith("sha256:")
        before = decide(server)
        # The candidate is fixed; a reload (the active set is unchanged) retries it.
        (candidate / "failing_test.rego").unlink()
        reloaded = reload(server.url)
        assert reloaded.status_code == 200, reloaded.text
        assert (reloaded.json()["status"], reloaded.json()["shadow"]) == ("unchanged", "applied")
        after = decide(server)
        shadow = httpx.get(f"{server.url}/policies/shadow", headers=auth(ADMIN), timeout=10)
        policies = httpx.get(f"{server.url}/policies", headers=auth(AUDITOR), timeout=10)
        again = reload(server.url)
    finally:
        server.stop()
    body = shadow.json()
    assert body["enabled"] is True and body["refused"] is None
    assert (body["evaluated"], body["differing"]) == (1, 1)
    assert before["segment"] == after["segment"] == "any"  # the active set answers
    listing = policies.json()
    assert listing["backend"] == "embedded"
    assert listing["shadow_revision"] == body["revision"]
    assert again.json()["shadow"] == "unchanged"


def test_watching_retries_the_shadow_candidate_when_its_directory_changes(tmp_path: Path) -> None:
    active = policy_copy(tmp_path / "active")
    candidate = policy_copy(tmp_path / "candidate")
    add_support_rule(candidate)
    (candidate / "failing_test.rego").write_text(FAILING_TEST)
    server = serve(
        tmp_path,
        active,
        PE_SHADOW_POLICIES_DIR=str(candidate),
        PE_POLICIES_WATCH="true",
        PE_POLICIES_WATCH_INTERVAL="0.5",
    )

    def shadow() -> dict[str, object]:
        answer = httpx.get(f"{server.url}/policies/shadow", headers=auth(ADMIN), timeout=10)
        return dict(answer.json())

    try:
        assert shadow()["enabled"] is False
        (candidate / "failing_test.rego").unlink()  # only the candidate's directory changes
        wait_for(lambda: shadow()["enabled"] is True)
        assert shadow()["refused"] is None
    finally:
        server.stop()
