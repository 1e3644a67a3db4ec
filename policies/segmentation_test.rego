# Tests of the aggregation core, on rule modules of its own: every test replaces the set of
# rule modules the core reads (`rule_modules`) with `with`, so these tests pass whatever rule
# modules a policy directory holds. The shipped rule modules have their own tests beside them;
# decisions of the whole set are tested by YAML cases (decisions_test.yaml).
# Test packages live outside segmentation.rules: a package there is a rule module.
package segmentation_test

import data.segmentation

# Every test goes through this one `with` site: the embedded engine compiles each site
# separately (about a second each), so tests that write their own `with` clauses are slow.
# Input is set key by key: replacing the whole input in one `with` crashes the engine.
# (`with data.segmentation.rules as …` would not do: the embedded engine merges it with the
# modules that exist instead of replacing them.)
decide(overrides) := decision if {
	case := object.union(base_case, overrides)
	decision := segmentation.decision with input.context as case.context
		with input.categories as case.categories
		with input.entity_types as case.entity_types
		with input.findings as case.findings
		with data.segmentation.rule_modules as case.modules
		with data.catalog.endpoints as case.endpoints
}

base_case := {
	"context": {}, "categories": [], "entity_types": [], "findings": [],
	"modules": {}, "endpoints": endpoints,
}

# One rule module, `extra`, contributing the given collections.
decide_with_extra(isolation, exclusions, obligations, endpoints) := decide({
	"modules": {"extra": {"isolation": isolation, "exclusions": exclusions, "obligations": obligations}},
	"endpoints": endpoints,
})

contribution(rule, segment) := {"rule": rule, "segment": segment, "message": concat(" ", [rule, "fired"])}

endpoints := [
	{"id": "a", "deployment": "public_hosted", "vendor": "OpenAI"},
	{"id": "b", "deployment": "public_hosted", "vendor": "OpenAI"},
]

test_no_contribution_is_any if {
	decide_with_extra([], [], [], endpoints) == {"segment": "any", "reasons": [], "excluded": [], "obligations": []}
}

test_trusted_hosted_floor if {
	d := decide_with_extra([contribution("x.one", "trusted_hosted")], [], [], endpoints)
	d.segment == "trusted_hosted"
	d.reasons == [contribution("x.one", "trusted_hosted")]
}

test_strictest_wins if {
	d := decide_with_extra(
		[contribution("x.loose", "any"), contribution("x.strict", "on_prem_only"), contribution("x.middle", "trusted_hosted")],
		[], [], endpoints,
	)
	d.segment == "on_prem_only"
	count(d.reasons) == 3
}

test_any_floor_keeps_any if {
	d := decide_with_extra([contribution("x.loose", "any")], [], [], endpoints)
	d.segment == "any"
	d.reasons == [contribution("x.loose", "any")]
}

test_reasons_sorted_by_rule_then_message if {
	d := decide_with_extra(
		[
			{"rule": "b.rule", "segment": "any", "message": "m"},
			{"rule": "a.rule", "segment": "any", "message": "z"},
			{"rule": "a.rule", "segment": "any", "message": "b"},
		],
		[], [], endpoints,
	)
	[[r.rule, r.message] | some r in d.reasons] == [["a.rule", "b"], ["a.rule", "z"], ["b.rule", "m"]]
}

test_unknown_segment_fails_closed if {
	d := decide_with_extra([{"rule": "x.typo", "segment": "on-prem", "message": "m"}], [], [], endpoints)
	d.segment == "on_prem_only"
	d.reasons == [{
		"rule": "segmentation.invalid_contribution",
		"segment": "on_prem_only",
		"message": "x.typo: unknown segment on-prem: treated as on_prem_only (fail closed)",
	}]
}

test_valid_and_invalid_entries_both_reported if {
	d := decide_with_extra([contribution("x.fine", "trusted_hosted"), {"rule": "x.typo", "segment": "cloud", "message": "m"}], [], [], endpoints)
	d.segment == "on_prem_only"
	[r.rule | some r in d.reasons] == ["segmentation.invalid_contribution", "x.fine"]
}

test_entry_without_message_fails_closed if {
	d := decide_with_extra([{"rule": "x.short", "segment": "any"}], [], [], endpoints)
	d.segment == "on_prem_only"
	[r.rule | some r in d.reasons] == ["segmentation.invalid_contribution"]
	startswith(d.reasons[0].message, "x.short: isolation entry needs")
}

test_entry_without_rule_names_module if {
	d := decide_with_extra([{"segment": "any", "message": "m"}], [], [], endpoints)
	d.segment == "on_prem_only"
	startswith(d.reasons[0].message, "segmentation.rules.extra: ")
}

test_isolation_not_a_collection_fails_closed if {
	d := decide_with_extra("on_prem_only", [], [], endpoints)
	d.segment == "on_prem_only"
	d.reasons[0].message == "segmentation.rules.extra.isolation is not a set: treated as on_prem_only (fail closed)"
}

test_exclusions_passed_through_sorted if {
	d := decide_with_extra(
		[], [
			{"endpoint": "b", "rule": "x.one", "message": "m1"},
			{"endpoint": "a", "rule": "x.two", "message": "m2"},
			{"endpoint": "a", "rule": "x.one", "message": "m3"},
		],
		[], endpoints,
	)
	d.segment == "any"
	d.excluded == [
		{"endpoint": "a", "rule": "x.one", "message": "m3"},
		{"endpoint": "a", "rule": "x.two", "message": "m2"},
		{"endpoint": "b", "rule": "x.one", "message": "m1"},
	]
}

test_exclusion_without_message_still_excludes if {
	d := decide_with_extra([], [{"endpoint": "a", "rule": "x.one"}], [], endpoints)
	d.excluded == [{"endpoint": "a", "rule": "x.one", "message": "excluded (the exclusion gave no message)"}]
}

test_exclusion_without_endpoint_excludes_every_endpoint if {
	d := decide_with_extra([], [{"rule": "x.broken", "message": "m"}, {"endpoint": "a", "rule": "x.fine", "message": "m"}], [], endpoints)
	d.segment == "on_prem_only"
	[[e.endpoint, e.rule] | some e in d.excluded] == [
		["a", "segmentation.invalid_contribution"],
		["a", "x.fine"],
		["b", "segmentation.invalid_contribution"],
	]
}

test_obligations_sorted_and_unique if {
	d := decide_with_extra([], [], ["redact:PERSON", "log:full", "redact:PERSON"], endpoints)
	d.obligations == ["log:full", "redact:PERSON"]
	d.segment == "any"
}

test_obligation_not_a_string_fails_closed if {
	d := decide_with_extra([], [], [{"redact": "PERSON"}], endpoints)
	d.segment == "on_prem_only"
	d.obligations == []
}

test_no_rule_module_is_any if {
	decide({}) == {"segment": "any", "reasons": [], "excluded": [], "obligations": []}
}

test_every_module_takes_part_and_the_strictest_wins if {
	d := decide({"modules": {
		"first": {"isolation": [contribution("first.loose", "trusted_hosted")]},
		"second": {"isolation": [contribution("second.strict", "on_prem_only")], "obligations": ["redact:PERSON"]},
		"third": {"exclusions": [{"endpoint": "b", "rule": "third.out", "message": "m"}]},
	}})
	d.segment == "on_prem_only"
	[r.rule | some r in d.reasons] == ["first.loose", "second.strict"]
	d.excluded == [{"endpoint": "b", "rule": "third.out", "message": "m"}]
	d.obligations == ["redact:PERSON"]
}

test_a_module_with_other_rules_only_contributes_nothing if {
	d := decide({"modules": {"helper": {"allowed_vendors": ["OpenAI"]}}})
	d == {"segment": "any", "reasons": [], "excluded": [], "obligations": []}
}

# The core has no rules of its own: a secret and a declared classification in the input
# change nothing unless a module contributes.
test_the_core_decides_from_contributions_only if {
	d := decide({
		"context": {"declared_classification": "secret"},
		"categories": ["secret"], "entity_types": ["PRIVATE_KEY"],
		"modules": {"extra": {"isolation": [contribution("x.extra", "trusted_hosted")]}},
	})
	d.segment == "trusted_hosted"
	d.reasons == [contribution("x.extra", "trusted_hosted")]
}

# The core reads every package directly under segmentation.rules: a module added there
# (here one simulated with `with`) is among rule_modules, beside whatever else exists.
test_rule_modules_are_the_packages_under_segmentation_rules if {
	modules := segmentation.rule_modules with data.segmentation.rules.core_test_probe.isolation as ["x"]
	modules.core_test_probe.isolation == ["x"]
}
