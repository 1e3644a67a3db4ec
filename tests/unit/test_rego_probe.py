"""Why a Rego test failed: reading test bodies, and the messages the real runner gives."""

from __future__ import annotations

from pathlib import Path

from policy_engine.policy import rego_tests
from policy_engine.policy.rego_probe import Statement, explain_failure, probe_module, statements_of

SOURCE = """\
package demo_test

import data.segmentation

# a comment with { braces } and "quotes"
test_multi if {
	d := segmentation.decide("x") # trailing } comment
		with input.categories as ["a", "b"]
		with data.catalog as {"k": "}"}
	d.reasons == [
		{"rule": "r", "message": "m"},
	]
	some r in d.reasons; r.rule != "q"
}

test_one_line if count([1, 2]) == 3

test_twice if true

test_twice if false
"""


def test_body_splits_statements_at_top_level_with_continuations() -> None:
    body = statements_of(SOURCE, "test_multi")
    assert body is not None
    assert [(s.line, s.text.split()[0]) for s in body] == [
        (7, "d"),
        (10, "d.reasons"),
        (13, "some"),
        (13, "r.rule"),
    ]
    assert body[0].text.endswith('with data.catalog as {"k": "}"}')
    assert "comment" not in body[0].text
    assert body[1].comparison == ("d.reasons", "==", '[\n\t\t{"rule": "r", "message": "m"},\n\t]')
    assert body[0].comparison is None and body[0].assignment is not None
    assert body[2].comparison is None and not body[2].is_expression
    assert body[3].comparison == ("r.rule", "!=", '"q"')


def test_body_of_a_one_line_test_and_none_for_a_test_defined_twice() -> None:
    assert statements_of(SOURCE, "test_one_line") == [Statement("count([1, 2]) == 3", 16)]
    assert statements_of(SOURCE, "test_twice") is None
    assert statements_of(SOURCE, "test_absent") is None


def test_probe_module_keeps_the_imports_and_repeats_the_statements_before() -> None:
    body = statements_of(SOURCE, "test_multi")
    assert body is not None
    module, (probe,) = probe_module("demo_test", SOURCE, {"test_multi": body}, "t_")
    assert module.startswith("package demo_test\n\nimport data.segmentation\n")
    assert "pe_probe_t_0_1_left contains pe_value if {" in module
    assert probe.rules["pe_probe_t_0_1_left"] == (1, "left")
    assert probe.rules["pe_probe_t_0_3_holds"] == (3, "holds")


def test_explain_names_the_first_statement_that_did_not_hold() -> None:
    body = statements_of(SOURCE, "test_multi")
    assert body is not None
    _, (probe,) = probe_module("demo_test", SOURCE, {"test_multi": body})
    values = {
        "pe_probe_0_0_holds": [True],
        "pe_probe_0_0_right": [{"reasons": []}],
        "pe_probe_0_1_left": [[]],
        "pe_probe_0_1_right": [[{"message": "m", "rule": "r"}]],
    }
    assert explain_failure(probe, values) == (
        'line 10: d.reasons == [ {"rule": "r", "message": "m"}, ]:'
        ' got [], expected [{"message": "m", "rule": "r"}]'
    )
    undefined_left = {"pe_probe_0_0_holds": [True], "pe_probe_0_1_right": [[]]}
    assert "got undefined (d.reasons has no value)" in str(explain_failure(probe, undefined_left))


def test_a_literal_on_the_left_is_still_the_expected_side() -> None:
    source = 'package p_test\n\ntest_x if {\n\t"a" == data.x\n}\n'
    body = statements_of(source, "test_x")
    assert body is not None
    _, (probe,) = probe_module("p_test", source, {"test_x": body})
    values = {"pe_probe_0_0_left": ["a"], "pe_probe_0_0_right": ["b"]}
    assert explain_failure(probe, values) == 'line 4: "a" == data.x: got "b", expected "a"'


FAILING = """\
package demo_test

helper(x) := {"segment": x, "reasons": ["r1", "r2"]}

test_equal if {
	d := helper("on_prem_only")
	d.segment == "trusted_hosted"
}

test_count if {
	d := helper("any")
	count(d.reasons) > 3
}

test_call if {
	startswith(helper("any").segment, "on")
}

test_missing if {
	d := helper("any")
	x := d.nothing
	x == 1
}

test_loop if {
	some r in helper("any").reasons
	r == "r3"
}
"""


def test_real_runner_says_what_came_back(tmp_path: Path) -> None:
    (tmp_path / "segmentation.rego").write_text("package segmentation\n\ndecision := 1\n")
    (tmp_path / "demo_test.rego").write_text(FAILING)
    messages = {r.name: r.message for r in rego_tests.run_rego_tests(tmp_path)}
    assert messages == {
        "demo_test.test_equal": 'line 7: d.segment == "trusted_hosted":'
        ' got "on_prem_only", expected "trusted_hosted"',
        "demo_test.test_count": "line 12: count(d.reasons) > 3: count(d.reasons) is 2",
        "demo_test.test_call": 'line 16: startswith(helper("any").segment, "on") is false',
        "demo_test.test_missing": "line 21: x := d.nothing: the right side is undefined",
        "demo_test.test_loop": 'line 27: r == "r3": got one of ["r1", "r2"], expected "r3"',
    }
