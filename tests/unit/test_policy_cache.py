"""The policy result cache in front of the real embedded evaluator, and the evaluator's
value input (``regopy.Input``) against the JSON text it replaced."""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from policy_engine.errors import PolicyError
from policy_engine.models import PolicyResult, Segment
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.policy.cache import CachedEvaluator, cached
from policy_engine.policy.embedded import DECISION_QUERY
from policy_engine.policy.regopy_support import build, new_interpreter, read_output
from policy_engine.ports import PolicyEvaluator
from tests.unit.test_policy_embedded import CATALOG, SHIPPED, policy_input


@pytest.fixture(scope="module")
def shipped() -> EmbeddedEvaluator:
    return EmbeddedEvaluator(load_policy_set(SHIPPED, {"catalog": CATALOG}))


def cache_on(inner: EmbeddedEvaluator, size: int = 64) -> CachedEvaluator:
    return CachedEvaluator(inner, inner.policy_set, size)


def with_length(sample: dict[str, Any], characters: int) -> dict[str, Any]:
    return {**sample, "content": {"characters": characters, "estimated_tokens": characters // 4}}


def test_answers_like_the_evaluator_and_counts_hits(shipped: EmbeddedEvaluator) -> None:
    evaluator = cache_on(shipped)
    assert isinstance(evaluator, PolicyEvaluator)
    assert evaluator.revision == shipped.revision
    samples = [
        policy_input(),
        policy_input(("PERSON",)),
        policy_input(("US_SSN",), ("secret",)),
        policy_input(declared_classification="Confidential"),
    ]
    for sample in samples * 3:
        assert evaluator.evaluate(sample) == shipped.evaluate(sample)
    assert (evaluator.hits, evaluator.misses, len(evaluator)) == (8, 4, 4)


def test_a_hit_is_a_fresh_object(shipped: EmbeddedEvaluator) -> None:
    evaluator = cache_on(shipped)
    first = evaluator.evaluate(policy_input(("US_SSN",)))
    first.reasons.clear()
    first.excluded.clear()
    again = evaluator.evaluate(policy_input(("US_SSN",)))
    assert again == shipped.evaluate(policy_input(("US_SSN",)))
    assert again.reasons and again.segment is Segment.ON_PREM_ONLY


def test_parts_the_policies_do_not_read_share_an_entry(shipped: EmbeddedEvaluator) -> None:
    # The shipped set reads neither the content's length nor the user.
    evaluator = cache_on(shipped)
    assert evaluator.members_read is not None
    assert "content" not in evaluator.members_read
    base = policy_input(("EMAIL_ADDRESS",), application="bot")
    evaluator.evaluate(with_length(base, 100))
    other = with_length({**base, "context": {"application": "bot", "user": "u-9"}}, 5000)
    assert evaluator.evaluate(other) == shipped.evaluate(other)
    assert (evaluator.hits, evaluator.misses) == (1, 1)
    # what they do read is part of the key
    assert evaluator.evaluate(policy_input(("EMAIL_ADDRESS",), application="kiosk")) is not None
    assert evaluator.misses == 2


def test_a_policy_reading_everything_is_keyed_by_the_whole_input(tmp_path: Path) -> None:
    (tmp_path / "segmentation.rego").write_text(
        textwrap.dedent(
            """
            package segmentation

            big := input["content"].characters > 1000

            decision := {"segment": "on_prem_only"} if big
            decision := {"segment": "any"} if not big
            """
        )
    )
    evaluator = cache_on(EmbeddedEvaluator(load_policy_set(tmp_path, {})))
    assert evaluator.members_read is None
    assert evaluator.evaluate(with_length(policy_input(), 10)).segment is Segment.ANY
    assert evaluator.evaluate(with_length(policy_input(), 5000)).segment is Segment.ON_PREM_ONLY
    assert evaluator.hits == 0


def test_revision_is_part_of_the_key(tmp_path: Path) -> None:
    def set_deciding(segment: str) -> EmbeddedEvaluator:
        directory = tmp_path / segment
        directory.mkdir()
        (directory / "segmentation.rego").write_text(
            f'package segmentation\n\ndecision := {{"segment": "{segment}"}}\n'
        )
        return EmbeddedEvaluator(load_policy_set(directory, {}))

    loose, strict = set_deciding("any"), set_deciding("on_prem_only")
    assert loose.revision != strict.revision
    assert cache_on(loose).key(policy_input()) != cache_on(strict).key(policy_input())


def test_bounded_least_recently_used(shipped: EmbeddedEvaluator) -> None:
    evaluator = cache_on(shipped, size=2)
    a, b, c = policy_input(("PERSON",)), policy_input(("US_SSN",)), policy_input()
    evaluator.evaluate(a)
    evaluator.evaluate(b)
    evaluator.evaluate(a)  # a is now the most recent
    evaluator.evaluate(c)  # evicts b
    assert len(evaluator) == 2
    hits = evaluator.hits
    evaluator.evaluate(a)
    assert evaluator.hits == hits + 1
    evaluator.evaluate(b)
    assert evaluator.hits == hits + 1


def test_failures_are_not_cached(tmp_path: Path) -> None:
    (tmp_path / "segmentation.rego").write_text(
        textwrap.dedent(
            """
            package segmentation

            decision := {"segment": "any"} if not input.context.tenant == "t-undefined"
            """
        )
    )
    evaluator = cache_on(EmbeddedEvaluator(load_policy_set(tmp_path, {})))
    for _ in range(2):
        with pytest.raises(PolicyError, match="undefined"):
            evaluator.evaluate(policy_input(tenant="t-undefined"))
    assert len(evaluator) == 0
    with pytest.raises(PolicyError, match="not JSON"):
        evaluator.evaluate({"context": {"tenant": {"a", "set"}}})
    assert len(evaluator) == 0


def test_concurrent_callers_agree(shipped: EmbeddedEvaluator) -> None:
    evaluator = cache_on(shipped, size=2)  # small: entries are evicted while others read
    samples = [policy_input(("US_SSN",)), policy_input(("PERSON",)), policy_input()] * 30
    expected = [shipped.evaluate(s) for s in samples]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(evaluator.evaluate, samples))
    assert got == expected
    assert evaluator.hits + evaluator.misses == len(samples)


def test_size_zero_is_no_cache(shipped: EmbeddedEvaluator) -> None:
    assert cached(shipped, shipped.policy_set, 0) is shipped
    assert isinstance(cached(shipped, shipped.policy_set, 5), CachedEvaluator)
    with pytest.raises(ValueError):
        CachedEvaluator(shipped, shipped.policy_set, 0)


def test_value_input_decides_like_json_text(shipped: EmbeddedEvaluator) -> None:
    # The evaluator hands the input over as a value; the same input as JSON text must give
    # the same decision, for awkward strings, numbers and nesting too.
    policy_set = shipped.policy_set
    interpreter = new_interpreter(policy_set.modules, policy_set.data)
    bundle = build(interpreter, DECISION_QUERY, [], what="test")
    odd = 'Zoë "q" \\ \n \u2028 😀'
    samples = [
        policy_input(),
        policy_input(("US_SSN", "PERSON"), ("secret", "ip_marker"), tenant=odd, purpose=odd),
        policy_input(declared_classification="Confidential", max_output_tokens=2**40),
        {
            **policy_input(("EMAIL_ADDRESS",)),
            "content": {"characters": 0, "estimated_tokens": 0.5},
            "extra": [[], {}, None, True, False, -1, 1e-9],
        },
    ]
    for sample in samples:
        interpreter.set_input_term(json.dumps(sample))
        from_text = read_output(lambda: interpreter.query_bundle(bundle))
        assert from_text.error is None and from_text.defined
        assert shipped.evaluate(sample) == PolicyResult.model_validate(from_text.value)


def test_non_string_keys_are_not_json(shipped: EmbeddedEvaluator) -> None:
    with pytest.raises(PolicyError, match="not JSON"):
        shipped.evaluate({**policy_input(), "context": {1: "a"}})


def test_the_service_caches_embedded_decisions_only(shipped: EmbeddedEvaluator) -> None:
    from policy_engine.bootstrap import CACHEABLE_BACKENDS, serving_evaluator
    from policy_engine.settings import load_settings

    settings = load_settings()
    on = serving_evaluator(shipped.policy_set, settings.model_copy(update={"policy_cache_size": 8}))
    off = serving_evaluator(
        shipped.policy_set, settings.model_copy(update={"policy_cache_size": 0})
    )
    assert isinstance(on, CachedEvaluator) and on.max_entries == 8
    assert isinstance(off, EmbeddedEvaluator)
    assert "opa" not in CACHEABLE_BACKENDS  # an OPA outage must fail closed
