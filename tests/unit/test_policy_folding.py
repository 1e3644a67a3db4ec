"""Folding catalog-only rule modules into constants at load time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policy_engine.policy import EmbeddedEvaluator, embedded, load_policy_set
from policy_engine.policy.folding import fold, foldable_packages, render
from policy_engine.policy.regopy_support import new_interpreter, read_output

SHIPPED = Path(__file__).resolve().parents[2] / "policies"
CATALOG = {
    "endpoints": [
        {"id": "onprem-unpinned", "vendor": "self", "deployment": "on_prem", "provenance": {}},
        {"id": "acme", "vendor": "Acme AI", "deployment": "public_hosted"},
        {"id": "together", "vendor": "Together AI", "deployment": "trusted_hosted"},
        {"id": "gpt-4o", "vendor": "OpenAI", "deployment": "public_hosted"},
    ]
}
CORE = "package segmentation\n\ndecision := data.segmentation.rules[_]\n"
CATALOG_ONLY = (
    "package segmentation.rules.cat\n\n"
    'exclusions contains {"endpoint": e.id, "rule": "cat.r", "message": "m"} if {\n'
    "\tsome e in data.catalog.endpoints\n}\n"
)


def sample(*entity_types: str, **context: Any) -> dict[str, Any]:
    return {
        "context": context,
        "findings": [
            {"type": t, "category": "pii", "count": 1, "max_score": 1.0, "detector": "t"}
            for t in entity_types
        ],
        "entity_types": sorted(entity_types),
        "categories": ["pii"] if entity_types else [],
        "content": {"characters": 10, "estimated_tokens": 3},
    }


def test_only_the_catalog_only_shipped_module_is_foldable() -> None:
    shipped = load_policy_set(SHIPPED, {})
    assert foldable_packages(shipped.modules) == {"rules/provenance/provenance.rego": "provenance"}


@pytest.mark.parametrize(
    "body",
    [
        'isolation contains "x" if input.context.tenant == "a"',
        "exclusions := data.other.list",
        "exclusions := [data.catalog.endpoints[0].id] if time.now_ns() > 0",
        "import data.catalog\n\nexclusions := catalog.endpoints",
        "exclusions := x if { x := data.catalog.endpoints with data.catalog.endpoints as [] }",
    ],
)
def test_modules_that_may_depend_on_more_than_the_catalog_are_not_foldable(body: str) -> None:
    modules = {"core.rego": CORE, "m.rego": f"package segmentation.rules.m\n\n{body}\n"}
    assert foldable_packages(modules) == {}


def test_strings_and_comments_do_not_block_folding() -> None:
    module = CATALOG_ONLY + '\n# reads input? no\nobligations := ["input", "data.x # y"]\n'
    assert foldable_packages({"core.rego": CORE, "m.rego": module}) == {"m.rego": "cat"}


def test_a_module_named_by_another_is_not_foldable() -> None:
    other = (
        "package segmentation.rules.user\n\nexclusions := data.segmentation.rules.cat.exclusions\n"
    )
    modules = {"core.rego": CORE, "cat.rego": CATALOG_ONLY, "user.rego": other}
    assert "cat.rego" not in foldable_packages(modules)


def test_an_alias_of_the_rules_namespace_blocks_all_folding() -> None:
    other = "package helpers\n\nimport data.segmentation.rules as r\n\nall := r\n"
    assert foldable_packages({"core.rego": CORE, "cat.rego": CATALOG_ONLY, "h.rego": other}) == {}


def test_rendered_constants_round_trip_through_the_engine() -> None:
    document = {
        "exclusions": [{"endpoint": 'we"ird\\id', "rule": "r", "message": "Zoë 😀\nline"}],
        "obligations": ["redact:PERSON"],
        "helper": 1,
    }
    source = render("m.rego", "m", document)
    assert "helper" not in source
    interpreter = new_interpreter({"m.rego": source}, {})
    value = read_output(lambda: interpreter.query("data.segmentation.rules.m")).value
    assert value == {k: v for k, v in document.items() if k != "helper"}


def test_fold_replaces_foldable_modules_with_their_values() -> None:
    modules = {"core.rego": CORE, "cat.rego": CATALOG_ONLY}
    queries: list[str] = []

    def evaluate(query: str) -> Any:
        queries.append(query)
        return {"exclusions": [{"endpoint": "e", "rule": "cat.r", "message": "m"}], "other": 2}

    folded = fold(modules, evaluate)
    assert queries == ["data.segmentation.rules.cat"]
    assert folded["core.rego"] == CORE
    assert (
        'exclusions := [{"endpoint": "e", "rule": "cat.r", "message": "m"}]' in folded["cat.rego"]
    )


def test_evaluator_folds_provenance_and_decides_the_same() -> None:
    policy_set = load_policy_set(SHIPPED, {"catalog": CATALOG})
    folded = EmbeddedEvaluator(policy_set)
    plain = EmbeddedEvaluator(policy_set, fold_constants=False)
    assert folded.folded_modules == ("rules/provenance/provenance.rego",)
    assert plain.folded_modules == ()
    for case in [
        sample(),
        sample("US_SSN", "PERSON"),
        sample("EMAIL_ADDRESS", declared_classification="internal"),
        sample(declared_classification="top secret"),
    ]:
        assert folded.evaluate(case) == plain.evaluate(case)
    excluded = {(e.endpoint, e.rule) for e in folded.evaluate(sample()).excluded}
    assert excluded == {
        ("onprem-unpinned", "provenance.unverified_weights"),
        ("onprem-unpinned", "provenance.untrusted_source"),
        ("acme", "provenance.unapproved_vendor"),
        ("together", "provenance.no_dpa"),
        ("together", "provenance.no_zero_data_retention"),
    }


def test_evaluator_keeps_the_original_modules_when_folding_changes_a_decision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def wrong_fold(modules: dict[str, str], evaluate: Any) -> dict[str, str]:
        broken = render("rules/provenance/provenance.rego", "provenance", {"exclusions": []})
        return {**modules, "rules/provenance/provenance.rego": broken}

    monkeypatch.setattr(embedded, "fold", wrong_fold)
    evaluator = EmbeddedEvaluator(load_policy_set(SHIPPED, {"catalog": CATALOG}))
    assert evaluator.folded_modules == ()
    assert len(evaluator.evaluate(sample()).excluded) == 5
