"""Static detection of the Rego constructs that crash the embedded engine."""

from __future__ import annotations

from pathlib import Path

from policy_engine.policy import load_policy_set
from policy_engine.policy.hazards import find_hazards

SHIPPED = Path(__file__).resolve().parents[2] / "policies"


def test_shipped_policies_and_tests_are_clean() -> None:
    shipped = load_policy_set(SHIPPED, {})
    assert find_hazards({**shipped.modules, **shipped.test_modules}) == {}


def test_whole_input_with_is_flagged_but_keyed_with_is_not() -> None:
    found = find_hazards(
        {
            "whole_test.rego": "package t\ntest_a if { data.p.x with input as {} }\n",
            "keyed_test.rego": "package u\ntest_b if { data.p.x with input.categories as [] }\n",
        }
    )
    assert list(found) == ["whole_test.rego"]
    assert "with input as" in found["whole_test.rego"][0]


def test_comments_are_ignored() -> None:
    assert find_hazards({"a.rego": "package a\n# never write: with input as {}\nx := 1\n"}) == {}


def test_same_function_with_different_arities_flags_both_files() -> None:
    found = find_hazards(
        {
            "a.rego": 'package a\nf(x) := 1\nf("literal, with comma") := 2\n',
            "b.rego": "package b\nf(x, [y, z]) := 1 if {\n\ttrue\n}\n",
        }
    )
    assert set(found) == {"a.rego", "b.rego"}
    assert "(1 in a.rego; 2 in b.rego)" in found["a.rego"][0]


def test_same_function_with_same_arity_is_fine() -> None:
    modules = {
        "a.rego": 'package a\ncheck("one") := 1\ncheck(other) := 2 if other != "one"\n',
        "b.rego": "package b\ncheck(x) := x\n",
    }
    assert find_hazards(modules) == {}


def test_function_named_like_a_builtin() -> None:
    found = find_hazards({"a.rego": "package a\nfloor(x) := x\nmy_floor(x) := x\n"})
    assert found == {
        "a.rego": [
            "function floor shadows the built-in of that name, which the embedded engine"
            " does not support; rename it"
        ]
    }
