"""The embedded (regopy) evaluator on the shipped policies and on small broken sets."""

from __future__ import annotations

import shutil
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from policy_engine.errors import PolicyError, PolicyLoadError
from policy_engine.models import Segment
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.ports import PolicyEvaluator

SHIPPED = Path(__file__).resolve().parents[2] / "policies"
DIGEST = "781daaef902220500978403a9acd4c705e198bbf4e221e803e2fef46fe5bbaea"
CATALOG = {
    "endpoints": [
        {
            "id": "onprem-qwen3-32b",
            "vendor": "self",
            "deployment": "on_prem",
            "context_window": 32768,
            "provenance": {
                "weights_source": "huggingface.co/Qwen/Qwen3-32B",
                "weights_sha256": DIGEST,
            },
        },
        {
            "id": "onprem-lab",
            "vendor": "self",
            "deployment": "on_prem",
            "context_window": 32768,
            "provenance": {"weights_source": "huggingface.co/THUDM/glm-4-9b-chat"},
        },
        {
            "id": "together-qwen",
            "vendor": "Together AI",
            "deployment": "trusted_hosted",
            "context_window": 32768,
            "provenance": {"dpa": True, "zero_data_retention": True},
        },
        {
            "id": "gpt-4o",
            "vendor": "OpenAI",
            "deployment": "public_hosted",
            "context_window": 128000,
        },
    ]
}


def policy_input(
    entity_types: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    **context: Any,
) -> dict[str, Any]:
    findings = [
        {"type": t, "category": "pii", "count": 1, "max_score": 0.9, "detector": "test"}
        for t in entity_types
    ]
    return {
        "context": context,
        "findings": findings,
        "entity_types": sorted(entity_types),
        "categories": sorted(set(categories) | ({"pii"} if entity_types else set())),
        "content": {"characters": 100, "estimated_tokens": 25},
    }


@pytest.fixture(scope="module")
def evaluator() -> EmbeddedEvaluator:
    return EmbeddedEvaluator(load_policy_set(SHIPPED, {"catalog": CATALOG}))


def write_set(directory: Path, decision_module: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "segmentation.rego").write_text(textwrap.dedent(decision_module))
    return directory


def test_is_a_policy_evaluator(evaluator: EmbeddedEvaluator) -> None:
    assert isinstance(evaluator, PolicyEvaluator)
    assert evaluator.revision == load_policy_set(SHIPPED, {"catalog": CATALOG}).revision


def test_clean_content_is_any_and_unverified_endpoint_excluded(
    evaluator: EmbeddedEvaluator,
) -> None:
    result = evaluator.evaluate(policy_input())
    assert result.segment is Segment.ANY
    assert result.reasons == []
    assert [(e.endpoint, e.rule) for e in result.excluded] == [
        ("onprem-lab", "provenance.unverified_weights")
    ]
    assert result.obligations == []


def test_sensitive_pii_is_on_prem_only_with_sorted_reasons(evaluator: EmbeddedEvaluator) -> None:
    result = evaluator.evaluate(policy_input(("US_SSN", "EMAIL_ADDRESS")))
    assert result.segment is Segment.ON_PREM_ONLY
    assert [(r.rule, r.segment, r.message) for r in result.reasons] == [
        (
            "isolation.contact_pii",
            Segment.TRUSTED_HOSTED,
            "EMAIL_ADDRESS found: personal data goes only to vendors under contract",
        ),
        (
            "isolation.sensitive_pii",
            Segment.ON_PREM_ONLY,
            "US_SSN found: sensitive personal data stays on-prem",
        ),
    ]


def test_contact_pii_is_trusted_hosted(evaluator: EmbeddedEvaluator) -> None:
    assert evaluator.evaluate(policy_input(("PERSON",))).segment is Segment.TRUSTED_HOSTED


def test_declared_classification_tightens(evaluator: EmbeddedEvaluator) -> None:
    result = evaluator.evaluate(policy_input(declared_classification="Confidential"))
    assert result.segment is Segment.ON_PREM_ONLY
    assert [r.rule for r in result.reasons] == ["classification.declared"]


def test_unknown_classification_fails_closed_without_echo(evaluator: EmbeddedEvaluator) -> None:
    result = evaluator.evaluate(policy_input(declared_classification="Project-Nightjar"))
    assert result.segment is Segment.ON_PREM_ONLY
    assert [r.rule for r in result.reasons] == ["classification.unknown"]
    assert "Nightjar" not in result.model_dump_json()


def test_awkward_context_strings_are_safe(evaluator: EmbeddedEvaluator) -> None:
    # Quotes, backslashes, newlines and non-ASCII in caller text must not break the engine's
    # JSON, nor leak into the decision.
    odd = 'Zoë "the admin" \\ path\nnext line \u2028 😀'
    result = evaluator.evaluate(policy_input(("EMAIL_ADDRESS",), user=odd, purpose=odd, tenant=odd))
    assert result.segment is Segment.TRUSTED_HOSTED
    assert "Zoë" not in result.model_dump_json()


def test_equal_inputs_give_equal_results(evaluator: EmbeddedEvaluator) -> None:
    sample = policy_input(("US_SSN", "PERSON", "CREDIT_CARD"), ("secret",))
    assert evaluator.evaluate(sample) == evaluator.evaluate(dict(sample))


def test_concurrent_evaluations_agree(evaluator: EmbeddedEvaluator) -> None:
    samples = [policy_input(("US_SSN",)), policy_input(("PERSON",)), policy_input()] * 20
    expected = [evaluator.evaluate(s).segment for s in samples]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda s: evaluator.evaluate(s).segment, samples))
    assert got == expected


def test_input_that_is_not_json(evaluator: EmbeddedEvaluator) -> None:
    with pytest.raises(PolicyError, match="policy input is not JSON"):
        evaluator.evaluate({"context": {"tenant": {"a", "set"}}})


def test_undefined_decision_is_a_policy_error_without_values(tmp_path: Path) -> None:
    directory = write_set(
        tmp_path,
        """
        package segmentation

        decision := {"segment": "any", "reasons": [], "excluded": [], "obligations": []} if {
            not input.context.tenant == "tenant-7f3a"
        }
        """,
    )
    evaluator = EmbeddedEvaluator(load_policy_set(directory, {}))
    assert evaluator.evaluate(policy_input()).segment is Segment.ANY
    with pytest.raises(PolicyError, match="undefined") as caught:
        evaluator.evaluate(policy_input(tenant="tenant-7f3a"))
    assert "tenant-7f3a" not in str(caught.value)


def test_engine_error_is_a_policy_error_without_values(tmp_path: Path) -> None:
    directory = write_set(
        tmp_path,
        """
        package segmentation

        default decision := {"segment": "any", "reasons": [], "excluded": [], "obligations": []}

        # Two values for one complete rule: an evaluation error.
        decision := {"segment": "on_prem_only"} if input.context.user == "secret-user-42"
        decision := {"segment": "any"} if input.context.user == "secret-user-42"
        """,
    )
    evaluator = EmbeddedEvaluator(load_policy_set(directory, {}))
    with pytest.raises(PolicyError, match="reported an error") as caught:
        evaluator.evaluate(policy_input(user="secret-user-42"))
    assert "secret-user-42" not in str(caught.value)


def test_malformed_decision_at_request_time(tmp_path: Path) -> None:
    directory = write_set(
        tmp_path,
        """
        package segmentation

        default decision := {"segment": "any", "reasons": [], "excluded": [], "obligations": []}

        decision := {"segment": "anywhere", "reasons": [], "excluded": [], "obligations": []} if {
            input.context.purpose == "purpose-x9"
        }
        """,
    )
    evaluator = EmbeddedEvaluator(load_policy_set(directory, {}))
    with pytest.raises(PolicyError, match=r"malformed \(segment: ") as caught:
        evaluator.evaluate(policy_input(purpose="purpose-x9"))
    assert "purpose-x9" not in str(caught.value)
    assert "anywhere" not in str(caught.value)


def test_malformed_decision_refused_at_load(tmp_path: Path) -> None:
    directory = write_set(
        tmp_path,
        """
        package segmentation

        decision := {"segment": "anywhere", "reasons": []}
        """,
    )
    with pytest.raises(PolicyLoadError, match=r"on a self-check input.*segment"):
        EmbeddedEvaluator(load_policy_set(directory, {}))


def test_missing_decision_refused_at_load(tmp_path: Path) -> None:
    directory = write_set(tmp_path, "package segmentation\n\nsomething_else := 1\n")
    with pytest.raises(PolicyLoadError, match=r"data\.segmentation\.decision is undefined"):
        EmbeddedEvaluator(load_policy_set(directory, {}))


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(SHIPPED, policies)
    broken = policies / "rules" / "broken" / "broken.rego"
    broken.parent.mkdir()
    broken.write_text("package segmentation.rules.broken\n\nisolation contains x if {\n")
    with pytest.raises(PolicyLoadError) as caught:
        EmbeddedEvaluator(load_policy_set(policies, {"catalog": CATALOG}))
    assert f"{broken}:3:" in str(caught.value)


def test_unknown_function_names_the_calling_file(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(SHIPPED, policies)
    module = policies / "rules" / "typo" / "typo.rego"
    module.parent.mkdir()
    module.write_text(
        "package segmentation.rules.typo\n\n"
        'isolation contains {"rule": "t", "segment": "any", "message": m} if {\n'
        "\tm := no_such_function(1)\n}\n"
    )
    with pytest.raises(PolicyLoadError, match="no_such_function") as caught:
        EmbeddedEvaluator(load_policy_set(policies, {"catalog": CATALOG}))
    assert str(module) in str(caught.value)


def test_known_crash_patterns_refused_before_compiling(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(SHIPPED, policies)
    module = policies / "rules" / "rounding" / "rounding.rego"
    module.parent.mkdir()
    module.write_text("package segmentation.rules.rounding\n\nfloor(x, y) := x - y\n")
    with pytest.raises(PolicyLoadError, match=r"would crash.*function floor") as caught:
        EmbeddedEvaluator(load_policy_set(policies, {"catalog": CATALOG}))
    assert str(module) in str(caught.value)
