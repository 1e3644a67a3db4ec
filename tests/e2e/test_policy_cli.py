"""The policy author's loop on the command line: test, lint, build, explain."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from policy_engine.policy import load_policy_set
from tests.conftest import ROOT, run_cli

SHIPPED = ROOT / "policies"
HR_CASES = SHIPPED / "rules" / "hr" / "hr_test.yaml"


def copy_policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(SHIPPED, target)
    return target


@pytest.mark.slow
def test_shipped_policies_pass_their_rego_tests_and_yaml_cases(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "PASS rules/hr/hr_test.yaml: an HR question with a name stays on-prem" in lines
    assert any(line.startswith("PASS segmentation_test.rules.isolation.") for line in lines)
    assert lines[-1].startswith(f"{len(lines) - 1} passed, 0 failed")


def test_failing_yaml_case_names_the_case_rules_and_difference(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    for path in policies.rglob("*_test.rego"):
        path.unlink()
    cases = policies / "rules" / "hr" / "hr_test.yaml"
    text = cases.read_text().replace(
        "    context: {purpose: analytics}\n    expect:\n      segment: trusted_hosted\n",
        "    context: {purpose: analytics}\n    expect:\n      segment: any\n",
    )
    assert text != cases.read_text()
    cases.write_text(text)
    result = run_cli(tmp_path, "test", str(policies))
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == [
        "FAIL rules/hr/hr_test.yaml: e-mail addresses are redacted for analytics:"
        " segment: expected any, got trusted_hosted"
        " (rules fired: isolation.contact_pii, provenance.unverified_weights)"
    ]


def test_invalid_case_file_is_a_failure_with_its_line(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    for path in policies.rglob("*_test.rego"):
        path.unlink()
    (policies / "rules" / "hr" / "hr_test.yaml").write_text(
        "cases:\n  - name: x\n    expect: {segment: nowhere}\n"
    )
    result = run_cli(tmp_path, "test", str(policies))
    assert result.returncode == 1
    assert "hr_test.yaml:3: field 'cases[0].expect.segment'" in result.stdout


def test_lint_passes_the_shipped_policies(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("0 errors, 0 warnings in " + str(SHIPPED))


def test_lint_reports_errors_and_warnings(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "rules" / "hr" / "hr.yaml").write_text(
        """\
name: hr
rules:
  - id: hr.typo
    message: m
    when: {entity_types: [US_SNN]}
    segment: on_prem_only
  - id: hr.wrong_category
    message: m
    when: {entity_types: [AWS_ACCESS_KEY], categories: [pii]}
    segment: on_prem_only
  - id: hr.no_such_attribute
    message: m
    exclude_endpoints: {provenance: {soc2: [true]}}
  - id: hr.no_such_vendor
    message: m
    exclude_endpoints: {vendor: [Nobody Inc]}
  - id: hr.pointless
    message: m
    segment: any
"""
    )
    (policies / "rules" / "hr" / "hr_test.yaml").unlink()
    isolation = policies / "rules" / "isolation" / "isolation.rego"
    isolation.write_text(isolation.read_text().replace('"UK_NINO"', '"UK_NIN0"'))
    result = run_cli(tmp_path, "lint", str(policies))
    assert result.returncode == 1
    out = result.stdout
    assert "rule hr.typo: warning: entity type US_SNN is not reported by any loaded detector" in out
    assert "rule hr.wrong_category: warning: can never fire for AWS_ACCESS_KEY" in out
    assert (
        "rule hr.no_such_attribute: error: endpoint attribute provenance.soc2 does not exist" in out
    )
    assert "rule hr.no_such_vendor: warning: can never exclude anything" in out
    assert "rule hr.pointless: warning: segment any never tightens" in out
    assert "hr.yaml: warning: no tests beside this policy" in out
    assert (
        'isolation.rego: warning: "UK_NIN0" looks like an entity type, but no loaded detector'
        in out
    )
    assert out.strip().endswith(f"1 errors, 6 warnings in {policies}")


def test_lint_names_unreachable_segments(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "rules" / "hr" / "hr.yaml").write_text(
        "name: hr\nrules:\n  - id: hr.no_onprem\n    message: m\n"
        "    exclude_endpoints: {deployment: [on_prem]}\n"
    )
    result = run_cli(tmp_path, "lint", str(policies))
    assert "warning: segment on_prem_only is unreachable in practice" in result.stdout
    assert "segment trusted_hosted is unreachable" not in result.stdout


def test_lint_reports_a_broken_file_as_an_error(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "rules" / "hr" / "hr.yaml").write_text("name: hr\nrules: []\n")
    result = run_cli(tmp_path, "lint", str(policies))
    assert result.returncode == 1
    assert "hr.yaml:2: field 'rules': List should have at least 1 item" in result.stdout


def test_build_writes_a_deterministic_opa_bundle(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "build", "--output", str(tmp_path / "a.tar.gz"))
    assert first.returncode == 0, first.stderr
    run_cli(tmp_path, "build", "--output", str(tmp_path / "b.tar.gz"))
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    with tarfile.open(tmp_path / "a.tar.gz") as archive:
        names = sorted(m.name.lstrip("/") for m in archive.getmembers())
        manifest = json.loads(archive.extractfile("/.manifest").read())  # type: ignore[union-attr]
        data = json.loads(archive.extractfile("/data.json").read())  # type: ignore[union-attr]
    assert ".manifest" in names and "rules/hr/hr.yaml.rego" in names
    assert not any(name.endswith("_test.rego") for name in names)
    assert manifest["roots"] == ["segmentation", "catalog"]
    revision = manifest["revision"]
    assert revision in first.stdout
    assert revision == load_policy_set(SHIPPED, data).revision
    assert data["catalog"]["endpoints"][0]["id"] == "onprem-qwen3-32b"


def test_build_refuses_a_broken_set(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "rules" / "broken.rego").write_text("package segmentation.rules.broken\nx := \n")
    result = run_cli(tmp_path, "build", "--output", str(tmp_path / "b.tar.gz"), str(policies))
    assert result.returncode == 2
    assert "broken.rego" in result.stderr
    assert not (tmp_path / "b.tar.gz").exists()


@pytest.mark.slow
def test_explain_says_which_rules_fired_and_why_each_endpoint(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "explain",
        "--text",
        "Write to jane.doe@example.com about her payroll",
        "--context",
        json.dumps({"application": "payroll"}),
        PE_DETECTION_BACKEND="presidio",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    explanation = body["explanation"]
    rules = {r["rule"]: r for r in explanation["rules"]}
    assert rules["hr.personnel_records"]["segment"] == "on_prem_only"
    assert rules["hr.personnel_records"]["messages"] == [
        "personal data in an HR application stays on-prem"
    ]
    assert rules["hr.no_inadequate_jurisdiction"]["effect"] == "exclude"
    assert "deepseek-v4-flash" in rules["hr.no_inadequate_jurisdiction"]["excluded_endpoints"]
    endpoints = {e["id"]: e for e in explanation["endpoints"]}
    assert endpoints["onprem-qwen3-32b"]["allowed"] is True
    assert endpoints["onprem-qwen3-32b"]["recommended"] is True
    assert "no policy rule excludes it" in endpoints["onprem-qwen3-32b"]["why"]
    assert endpoints["gpt-4o"]["why"] == ["segment on_prem_only"]
    assert body["segment"] == "on_prem_only" and body["audit"]["sequence"] == 1
