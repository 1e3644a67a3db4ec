"""Which entity types a policy set uses, and which of them a reload must refuse."""

from __future__ import annotations

from pathlib import Path

from policy_engine.policy import load_policy_set
from policy_engine.policy.entity_uses import entity_uses, unreportable

REGO = """\
package segmentation.rules.acme

sensitive := ["US_SSN", "ACME_ID"] # "NOT_IN_CODE" in a comment

isolation contains {"rule": "acme.x", "segment": "on_prem_only", "message": "m"} if {
	input.context.purpose != "TRAINING"
	some t in input.entity_types
	t in sensitive
}
"""
YAML = """\
name: hr
rules:
  - id: hr.ids
    message: m
    when: {entity_types: [IBAN, US_SSN]}
    segment: on_prem_only
"""


def policy_dir(tmp_path: Path) -> Path:
    (tmp_path / "acme.rego").write_text(REGO)
    (tmp_path / "hr.yaml").write_text(YAML)
    return tmp_path


def test_uses_name_file_rule_and_line(tmp_path: Path) -> None:
    uses = list(entity_uses(load_policy_set(policy_dir(tmp_path), {})))
    assert [(u.entity_type, u.rule, u.exact, u.where) for u in uses] == [
        ("US_SSN", "segmentation.rules.acme.sensitive", False, f"{tmp_path / 'acme.rego'}:3"),
        ("ACME_ID", "segmentation.rules.acme.sensitive", False, f"{tmp_path / 'acme.rego'}:3"),
        ("TRAINING", "segmentation.rules.acme.isolation", False, f"{tmp_path / 'acme.rego'}:6"),
        ("IBAN", "hr.ids", True, str(tmp_path / "hr.yaml")),
        ("US_SSN", "hr.ids", True, str(tmp_path / "hr.yaml")),
    ]


def test_unreportable_counts_rego_literals_only_when_they_are_entity_types(tmp_path: Path) -> None:
    policy_set = load_policy_set(policy_dir(tmp_path), {})
    reportable = {"US_SSN", "IBAN_CODE"}
    # ACME_ID is a type somewhere (a detector on disk), TRAINING is not: only the first,
    # and the YAML rule's IBAN (a policy names it as an entity type), are refused.
    problems = unreportable(policy_set, reportable, reportable | {"ACME_ID"})
    assert [p.split(" uses entity type ")[1].split(",")[0] for p in problems] == ["ACME_ID", "IBAN"]
    assert "(did you mean IBAN_CODE?)" in problems[1]
    assert unreportable(policy_set, reportable | {"ACME_ID", "IBAN"}, reportable) == []
