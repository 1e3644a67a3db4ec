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


def test_a_failing_rego_test_says_what_was_expected_and_what_came_back(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(SHIPPED, policies)
    core_tests = policies / "segmentation_test.rego"
    text = core_tests.read_text()
    wrong = text.replace(
        '\td.reasons == [contribution("x.one", "trusted_hosted")]',
        '\td.reasons == [contribution("x.two", "trusted_hosted")]',
    )
    assert wrong != text
    core_tests.write_text(wrong)
    result = run_cli(tmp_path, "test", str(core_tests))
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    line = 1 + wrong[: wrong.index('contribution("x.two"')].count("\n")
    assert failed == [
        "FAIL segmentation_test.test_trusted_hosted_floor (segmentation_test.rego):"
        f' line {line}: d.reasons == [contribution("x.two", "trusted_hosted")]:'
        ' got [{"message": "x.one fired", "rule": "x.one", "segment": "trusted_hosted"}],'
        ' expected [{"message": "x.two fired", "rule": "x.two", "segment": "trusted_hosted"}]'
    ]
    # Only the tests of that file ran.
    ran = [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert all(line.split()[1].startswith("segmentation_test.test_") for line in ran)


def test_one_file_or_one_test_by_name(tmp_path: Path) -> None:
    isolation = SHIPPED / "rules" / "isolation" / "isolation_test.rego"
    by_file = run_cli(tmp_path, "test", str(isolation))
    assert by_file.returncode == 0, by_file.stdout + by_file.stderr
    ran = [line for line in by_file.stdout.splitlines() if line.startswith("PASS")]
    assert ran and all(line.startswith("PASS segmentation_test.rules.isolation.") for line in ran)

    by_name = run_cli(tmp_path, "test", "--run", "segmentation_test.test_strictest_wins$")
    assert by_name.returncode == 0, by_name.stdout + by_name.stderr
    lines = by_name.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("PASS segmentation_test.test_strictest_wins ")
    assert lines[1].startswith("1 passed, 0 failed")

    case = run_cli(tmp_path, "test", "-r", "nineteen do not", str(SHIPPED / "rules" / "hr"))
    assert case.stdout.splitlines()[0] == "PASS rules/hr/hr_test.yaml: nineteen do not"

    nothing = run_cli(tmp_path, "test", "--run", "no_such_test")
    assert nothing.returncode == 2
    assert "no test matches" in nothing.stderr

    not_a_test = run_cli(tmp_path, "test", str(SHIPPED / "rules" / "isolation" / "isolation.rego"))
    assert not_a_test.returncode == 2
    assert "not a test file" in not_a_test.stderr


def test_a_folder_without_the_core_says_where_the_core_is(tmp_path: Path) -> None:
    module = tmp_path / "my-module"
    (module / "rules" / "contracts").mkdir(parents=True)
    (module / "rules" / "contracts" / "contracts.rego").write_text(CONTRACTS_MODULE)
    (module / "rules" / "contracts" / "contracts_test.rego").write_text(CONTRACTS_TEST)
    result = run_cli(tmp_path, "test", str(module))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{module} has no segmentation core" in result.stderr
    assert f"The core is {SHIPPED / 'segmentation.rego'}" in result.stderr
    # Inside the configured directory, a sub-folder is tested with the whole set.
    inside = run_cli(tmp_path, "test", str(SHIPPED / "rules" / "hr"))
    assert inside.returncode == 0 and "no segmentation core" not in inside.stderr


CATALOG_TEST = """\
package segmentation_test.catalog

test_the_catalog_has_gpt if {
	some e in data.catalog.endpoints
	e.id == "gpt-4o"
}

test_own_catalog if {
	ids := [e.id | some e in data.catalog.endpoints] with data.catalog.endpoints as [{"id": "a"}]
	ids == ["a"]
}
"""


def test_a_test_that_needs_the_injected_catalog_is_flagged(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(SHIPPED, policies)
    (policies / "catalog_test.rego").write_text(CATALOG_TEST)
    result = run_cli(tmp_path, "test", str(policies / "catalog_test.rego"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    flagged = lines.index(next(x for x in lines if "test_the_catalog_has_gpt" in x))
    assert lines[flagged + 1].startswith("  warning: passes only with data.catalog")
    assert "bare `opa test`" in lines[flagged + 1]
    assert sum("warning:" in line for line in lines) == 1
    assert lines[-1].startswith("2 passed, 0 failed, 1 warnings")
    # ... and the warning is right: OPA fails that test and passes the other.
    command = [opa_binary(), "test", "-v", str(policies / "catalog_test.rego")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert "test_the_catalog_has_gpt: FAIL" in done.stdout
    assert "test_own_catalog: PASS" in done.stdout


def test_lint_strict_fails_on_warnings_and_unreachable_names_the_rule(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(SHIPPED, policies)
    hr = policies / "rules" / "hr" / "hr.yaml"
    hr.write_text(
        "name: hr\nrules:\n"
        "  - id: hr.iban\n    message: m\n    when: {entity_types: [IBAN]}\n"
        "    segment: on_prem_only\n"
        "  - id: hr.no_onprem\n    message: m\n    exclude_endpoints: {deployment: [on_prem]}\n"
    )
    lenient = run_cli(tmp_path, "lint", str(policies))
    assert lenient.returncode == 0, lenient.stdout
    assert (
        f"{hr}: rule hr.iban: warning: entity type IBAN is not reported by any loaded"
        " detector (did you mean IBAN_CODE?)" in lenient.stdout
    )
    unreachable = next(x for x in lenient.stdout.splitlines() if "unreachable" in x)
    assert "segment on_prem_only is unreachable in practice" in unreachable
    assert "by rules hr.no_onprem, provenance.unverified_weights" in unreachable
    assert "onprem-qwen3-32b by hr.no_onprem;" in unreachable
    strict = run_cli(tmp_path, "lint", "--strict", str(policies))
    assert strict.returncode == 1
    assert f"{hr}: rule hr.iban: error: entity type IBAN" in strict.stdout
    assert "0 warnings" in strict.stdout.splitlines()[-1]
