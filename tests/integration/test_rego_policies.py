"""The shipped Rego policies: every Rego unit test passes, modules plug in by dropping a file,
broken sets are refused, and an interpreter crash is a failed test, not a dead runner."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from policy_engine.errors import PolicyLoadError
from policy_engine.models import Segment
from policy_engine.policy import (
    EmbeddedEvaluator,
    RegoTestResult,
    discover_tests,
    load_policy_set,
    run_rego_tests,
)

SHIPPED = Path(__file__).resolve().parents[2] / "policies"
DIGEST = "781daaef902220500978403a9acd4c705e198bbf4e221e803e2fef46fe5bbaea"
CATALOG = {
    "endpoints": [
        {
            "id": "onprem-qwen3-32b",
            "vendor": "self",
            "deployment": "on_prem",
            "provenance": {
                "weights_source": "huggingface.co/Qwen/Qwen3-32B",
                "weights_sha256": DIGEST,
            },
        },
        {"id": "gpt-4o", "vendor": "OpenAI", "deployment": "public_hosted"},
        {"id": "deepseek-v4-flash", "vendor": "DeepSeek", "deployment": "public_hosted"},
    ]
}
SHIPPED_TESTS = discover_tests(load_policy_set(SHIPPED, {}).test_modules)


def clean_input(*entity_types: str) -> dict[str, object]:
    return {
        "context": {},
        "findings": [
            {"type": t, "category": "pii", "count": 1, "max_score": 0.9, "detector": "test"}
            for t in entity_types
        ],
        "entity_types": sorted(entity_types),
        "categories": ["pii"] if entity_types else [],
        "content": {"characters": 40, "estimated_tokens": 10},
    }


@pytest.fixture(scope="module")
def shipped_results() -> dict[str, RegoTestResult]:
    return {result.name: result for result in run_rego_tests(SHIPPED)}


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(SHIPPED, target)
    return target


def test_every_module_has_tests() -> None:
    shipped = load_policy_set(SHIPPED, {})
    tested = {name.removesuffix("_test.rego") for name in shipped.test_modules}
    tested |= {name.removesuffix("_test.yaml") for name in shipped.yaml_cases}
    stems = {name.removesuffix(".rego").removesuffix(".yaml") for name in shipped.modules}
    assert stems <= tested
    assert shipped.yaml_policies and shipped.yaml_cases
    assert len(SHIPPED_TESTS) >= 60


@pytest.mark.parametrize("name", [t.name for t in SHIPPED_TESTS])
def test_shipped_rego_test(name: str, shipped_results: dict[str, RegoTestResult]) -> None:
    result = shipped_results[name]
    assert result.passed, f"{result.file}: {result.message}"


def test_dropped_in_module_takes_part(policies: Path) -> None:
    before = EmbeddedEvaluator(load_policy_set(policies, {"catalog": CATALOG}))
    sample = clean_input("DATE_TIME")
    assert before.evaluate(sample).segment is Segment.ANY

    module = policies / "rules" / "dates" / "dates.rego"
    module.parent.mkdir()
    module.write_text(
        textwrap.dedent(
            """\
            package segmentation.rules.dates

            isolation contains {
            \t"rule": "dates.no_public",
            \t"segment": "trusted_hosted",
            \t"message": "DATE_TIME found: dates stay with contracted vendors",
            } if {
            \tsome t in input.entity_types
            \tt == "DATE_TIME"
            }

            exclusions contains {
            \t"endpoint": "deepseek-v4-flash",
            \t"rule": "dates.cn",
            \t"message": "m",
            } if {
            \tsome t in input.entity_types
            \tt == "DATE_TIME"
            }

            obligations contains "redact:DATE_TIME" if {
            \tsome t in input.entity_types
            \tt == "DATE_TIME"
            }
            """
        )
    )
    after = EmbeddedEvaluator(load_policy_set(policies, {"catalog": CATALOG}))
    assert after.revision != before.revision
    result = after.evaluate(sample)
    assert result.segment is Segment.TRUSTED_HOSTED
    assert [r.rule for r in result.reasons] == ["dates.no_public"]
    assert [(e.endpoint, e.rule) for e in result.excluded] == [("deepseek-v4-flash", "dates.cn")]
    assert result.obligations == ["redact:DATE_TIME"]
    # Content without dates is not affected by the new module.
    assert after.evaluate(clean_input()).segment is Segment.ANY


def test_dropped_in_module_with_a_typo_fails_closed(policies: Path) -> None:
    module = policies / "rules" / "typo" / "typo.rego"
    module.parent.mkdir()
    module.write_text(
        'package segmentation.rules.typo\n\nisolation contains {"rule": "typo.r",'
        ' "segment": "onprem", "message": "m"} if {\n\tsome t in input.entity_types\n'
        '\tt == "URL"\n}\n'
    )
    evaluator = EmbeddedEvaluator(load_policy_set(policies, {"catalog": CATALOG}))
    result = evaluator.evaluate(clean_input("URL"))
    assert result.segment is Segment.ON_PREM_ONLY
    assert [r.rule for r in result.reasons] == ["segmentation.invalid_contribution"]
    assert "unknown segment onprem" in result.reasons[0].message


def test_compile_error_names_the_file(policies: Path) -> None:
    module = policies / "rules" / "broken" / "broken.rego"
    module.parent.mkdir()
    module.write_text(
        'package segmentation.rules.broken\n\nisolation contains "x" if {\n\t1 ==\n}\n'
    )
    with pytest.raises(PolicyLoadError) as caught:
        EmbeddedEvaluator(load_policy_set(policies, {"catalog": CATALOG}))
    assert str(module) in str(caught.value)


def test_crashing_rego_test_is_a_failure_and_the_runner_survives(policies: Path) -> None:
    crash = policies / "extra" / "crash_test.rego"
    crash.parent.mkdir()
    crash.write_text(
        textwrap.dedent(
            """\
            package extra_test

            import data.segmentation.rules.isolation

            # Replacing the whole input, then running a built-in: kills rego-cpp.
            test_crashes if {
            \tcount(isolation.isolation) == 1 with input as {"categories": ["secret"]}
            }
            """
        )
    )
    results = {r.name: r for r in run_rego_tests(policies)}
    crashed = results.pop("extra_test.test_crashes")
    assert not crashed.passed
    assert crashed.message.startswith("crashed (signal")
    assert "while compiling extra/crash_test.rego" in crashed.message
    assert "with input as" in crashed.message
    assert len(results) == len(SHIPPED_TESTS)
    assert all(r.passed for r in results.values())
