"""YAML policies: the schema, the compiler (evaluated by the embedded engine), load errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from policy_engine.errors import PolicyLoadError
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.policy.hazards import find_hazards
from policy_engine.policy.yaml_model import json_schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "policy_engine" / "policy" / "yaml_schema.json"
CORE = (ROOT / "policies" / "segmentation.rego").read_text()

CATALOG = {
    "endpoints": [
        {"id": "local", "deployment": "on_prem", "vendor": "self", "jurisdiction": "EU"},
        {
            "id": "cn-api",
            "deployment": "public_hosted",
            "vendor": "Zhipu AI",
            "jurisdiction": "CN",
            "provenance": {"dpa": False},
        },
        {
            "id": "us-api",
            "deployment": "trusted_hosted",
            "vendor": "OpenAI",
            "jurisdiction": "US",
            "provenance": {"dpa": True},
        },
        {"id": "nowhere", "deployment": "public_hosted", "vendor": "Acme"},
    ]
}

POLICY = """\
version: 1
name: demo
rules:
  - id: demo.secret_keys
    message: keys stay home
    when:
      entity_types: [API_KEY, PRIVATE_KEY]
      min_score: 0.7
    segment: on_prem_only
  - id: demo.tenant_eu
    message: acme data stays away from CN and unknown jurisdictions
    when:
      context: {tenant: [acme]}
    exclude_endpoints:
      jurisdiction: [CN, null]
  - id: demo.no_dpa
    message: no DPA, no personal data
    when:
      categories: [pii]
      min_count: 3
    exclude_endpoints:
      provenance: {dpa: [false, null]}
      deployment: [public_hosted, trusted_hosted]
    obligations: ["redact:PERSON"]
  - id: demo.internal
    message: internal apps go to vendors under contract
    when:
      context: {application: [wiki], declared_classification: [internal]}
    segment: trusted_hosted
"""


def write_set(directory: Path, policy: str = POLICY, name: str = "demo.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "segmentation.rego").write_text(CORE)
    (directory / name).write_text(policy)
    return directory


def policy_input(
    findings: list[tuple[str, str, int, float]] = (),  # type: ignore[assignment]
    **context: str,
) -> dict[str, Any]:
    rows = [
        {"type": t, "category": c, "count": n, "max_score": s, "detector": "t"}
        for t, c, n, s in findings
    ]
    return {
        "context": context,
        "findings": rows,
        "entity_types": sorted({r["type"] for r in rows}),
        "categories": sorted({r["category"] for r in rows}),
        "content": {"characters": 10, "estimated_tokens": 3},
    }


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedEvaluator:
    directory = write_set(tmp_path_factory.mktemp("yaml"))
    return EmbeddedEvaluator(load_policy_set(directory, {"catalog": CATALOG}))


def test_published_schema_is_generated_from_the_model() -> None:
    assert SCHEMA.read_text() == json_schema_text(), "regenerate yaml_schema.json"
    schema = json.loads(SCHEMA.read_text())
    assert "rules" in schema["required"]


def test_compiled_module_is_a_rule_module_free_of_crash_patterns(tmp_path: Path) -> None:
    policy_set = load_policy_set(write_set(tmp_path), {"catalog": CATALOG})
    source = policy_set.modules["demo.yaml"]
    assert source.splitlines()[1] == "package segmentation.rules.demo"
    assert policy_set.yaml_policies == {"demo.yaml": "segmentation.rules.demo"}
    assert find_hazards(policy_set.modules) == {}


def test_nothing_found_no_rule_fires(evaluator: EmbeddedEvaluator) -> None:
    result = evaluator.evaluate(policy_input())
    assert result.segment == "any"
    assert result.reasons == [] and result.excluded == [] and result.obligations == []


def test_entity_type_with_score_sets_the_segment(evaluator: EmbeddedEvaluator) -> None:
    strong = evaluator.evaluate(policy_input([("API_KEY", "secret", 1, 0.9)]))
    assert strong.segment == "on_prem_only"
    assert [r.rule for r in strong.reasons] == ["demo.secret_keys"]
    assert strong.reasons[0].message == "keys stay home"
    weak = evaluator.evaluate(policy_input([("API_KEY", "secret", 1, 0.5)]))
    assert weak.segment == "any"


def test_context_excludes_by_attribute_including_absent_ones(
    evaluator: EmbeddedEvaluator,
) -> None:
    result = evaluator.evaluate(policy_input(tenant="acme"))
    assert sorted(x.endpoint for x in result.excluded) == ["cn-api", "nowhere"]
    assert {x.rule for x in result.excluded} == {"demo.tenant_eu"}
    assert evaluator.evaluate(policy_input(tenant="other")).excluded == []


def test_counts_add_up_across_findings_and_obligations_follow(
    evaluator: EmbeddedEvaluator,
) -> None:
    two = evaluator.evaluate(policy_input([("PERSON", "pii", 2, 0.8)]))
    assert two.excluded == [] and two.obligations == []
    three = evaluator.evaluate(policy_input([("PERSON", "pii", 2, 0.8), ("EMAIL", "pii", 1, 0.9)]))
    assert sorted(x.endpoint for x in three.excluded) == ["cn-api", "nowhere"]
    assert three.obligations == ["redact:PERSON"]


def test_all_context_conditions_must_hold(evaluator: EmbeddedEvaluator) -> None:
    both = evaluator.evaluate(policy_input(application="wiki", declared_classification="internal"))
    assert both.segment == "trusted_hosted"
    one = evaluator.evaluate(policy_input(application="wiki"))
    assert one.segment == "any"


def test_yaml_and_rego_combine_strictest_wins(tmp_path: Path) -> None:
    directory = write_set(tmp_path)
    shutil.copytree(ROOT / "policies" / "rules" / "isolation", directory / "isolation")
    evaluator = EmbeddedEvaluator(load_policy_set(directory, {"catalog": CATALOG}))
    result = evaluator.evaluate(
        policy_input([("PERSON", "pii", 1, 0.9)], application="wiki", declared_classification="x")
    )
    assert result.segment == "trusted_hosted"
    assert [r.rule for r in result.reasons] == ["isolation.contact_pii"]
    result = evaluator.evaluate(
        policy_input([("API_KEY", "secret", 1, 0.9), ("PERSON", "pii", 1, 1)])
    )
    assert result.segment == "on_prem_only"
    assert {r.rule for r in result.reasons} == {
        "demo.secret_keys",
        "isolation.secrets",
        "isolation.contact_pii",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            POLICY.replace("min_score: 0.7", "min_score: 7"),
            "demo.yaml:8: field 'rules[0].when.min_score': Input should be less than or equal to 1",
        ),
        (
            POLICY.replace("segment: trusted_hosted", "segment: on-prem"),
            "demo.yaml:29: field 'rules[3].segment': Input should be 'any', 'trusted_hosted'",
        ),
        (
            POLICY.replace("      jurisdiction: [CN, null]", "      country: [CN]"),
            "demo.yaml:15: field 'rules[1].exclude_endpoints.country': unknown field",
        ),
        (POLICY.replace("    message: keys stay home\n", ""), "field 'rules[0].message': missing"),
        (
            POLICY.replace("id: demo.internal", "id: other.internal"),
            "must start with the policy name (demo.)",
        ),
        (POLICY.replace("rules:", "rules: [\n"), "invalid YAML"),
        (
            POLICY.replace("name: demo", "name: else").replace("id: demo.", "id: else."),
            "demo.yaml:2: field 'name': 'else' is a Rego keyword",
        ),
    ],
    ids=[
        "score-range",
        "segment-typo",
        "unknown-attribute",
        "missing",
        "rule-prefix",
        "syntax",
        "keyword",
    ],
)
def test_invalid_policy_names_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        load_policy_set(write_set(tmp_path, text), {"catalog": CATALOG})
    assert expected in str(caught.value)
    assert str(tmp_path / "demo.yaml") in str(caught.value)


def test_yaml_policy_may_not_reuse_a_rego_package(tmp_path: Path) -> None:
    directory = write_set(
        tmp_path, POLICY.replace("name: demo", "name: isolation").replace("demo.", "isolation.")
    )
    shutil.copytree(ROOT / "policies" / "rules" / "isolation", directory / "isolation")
    with pytest.raises(PolicyLoadError, match=r"package segmentation\.rules\.isolation is also"):
        load_policy_set(directory, {"catalog": CATALOG})


def test_yaml_files_count_towards_the_revision(tmp_path: Path) -> None:
    first = load_policy_set(write_set(tmp_path), {"catalog": CATALOG}).revision
    (tmp_path / "demo.yaml").write_text(POLICY.replace("keys stay home", "keys stay at home"))
    assert load_policy_set(tmp_path, {"catalog": CATALOG}).revision != first
