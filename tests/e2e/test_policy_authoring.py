"""The policy author's rough edges: the shipped tests survive an added rule module, failing
Rego tests say what came back, tests can be picked by file or name, lint --strict."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from policy_engine.policy import load_policy_set
from tests.conftest import ROOT, run_cli
from tests.opa_server import opa_binary

SHIPPED = ROOT / "policies"

# An ordinary rule module in YAML: hosted vendors without a DPA get nothing.
DPA_POLICY = """\
version: 1
name: dpa
description: Hosted vendors without a data processing agreement get nothing.
rules:
  - id: dpa.hosted_without_dpa
    message: hosted endpoint without a data processing agreement
    exclude_endpoints:
      deployment: [public_hosted, trusted_hosted]
      provenance: {dpa: [false, null]}
"""
DPA_CASES = """\
version: 1
cases:
  - name: no hosted endpoint without a DPA
    expect:
      rules: [dpa.hosted_without_dpa]
      excluded: [deepseek-v4-flash]
"""
# The same kind of module in Rego, with its test.
CONTRACTS_MODULE = """\
package segmentation.rules.contracts

exclusions contains {
	"endpoint": e.id, "rule": "contracts.no_dpa",
	"message": "hosted endpoint without a DPA",
} if {
	some e in data.catalog.endpoints
	e.deployment != "on_prem"
	not has_dpa(e)
}

has_dpa(e) if e.provenance.dpa == true

isolation contains {"rule": "contracts.training", "segment": "on_prem_only", "message": "m"} if {
	input.context.purpose == "training"
}
"""
CONTRACTS_TEST = """\
package segmentation_test.rules.contracts

import data.segmentation.rules.contracts

test_hosted_without_dpa_excluded if {
	result := contracts.exclusions with data.catalog.endpoints as [
		{"id": "a", "deployment": "public_hosted"},
		{"id": "b", "deployment": "trusted_hosted", "provenance": {"dpa": true}},
	]
	[e.endpoint | some e in result] == ["a"]
}
"""


def policies_with_extra_modules(target: Path) -> Path:
    """The shipped policies plus a YAML and a Rego rule module that exclude hosted endpoints
    without a DPA and tighten one purpose."""
    shutil.copytree(SHIPPED, target)
    (target / "rules" / "dpa").mkdir()
    (target / "rules" / "dpa" / "dpa.yaml").write_text(DPA_POLICY)
    (target / "rules" / "dpa" / "dpa_test.yaml").write_text(DPA_CASES)
    (target / "rules" / "contracts").mkdir()
    (target / "rules" / "contracts" / "contracts.rego").write_text(CONTRACTS_MODULE)
    (target / "rules" / "contracts" / "contracts_test.rego").write_text(CONTRACTS_TEST)
    return target


def test_shipped_tests_pass_beside_added_rule_modules(tmp_path: Path) -> None:
    policies = policies_with_extra_modules(tmp_path / "policies")
    result = run_cli(tmp_path, "test", str(policies))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "PASS rules/dpa/dpa_test.yaml: no hosted endpoint without a DPA" in lines
    assert any(line.startswith("PASS segmentation_test.test_strictest_wins") for line in lines)
    assert any("segmentation_test.rules.contracts." in line for line in lines)
    assert lines[-1].startswith(f"{len(lines) - 1} passed, 0 failed")


def test_opa_passes_the_shipped_tests_beside_added_rule_modules(tmp_path: Path) -> None:
    policies = policies_with_extra_modules(tmp_path / "policies")
    # OPA does not read YAML: give it the module the YAML policy compiles to.
    compiled = load_policy_set(policies, {}).modules["rules/dpa/dpa.yaml"]
    (policies / "rules" / "dpa" / "dpa.yaml.rego").write_text(compiled)
    command = [opa_binary(), "test", "--ignore", "*.yaml", "-v", str(policies)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_hosted_without_dpa_excluded: PASS" in done.stdout
    assert "FAIL" not in done.stdout
