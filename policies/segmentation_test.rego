# Tests of the aggregation core. Rule modules are simulated with
# `with data.segmentation.rules.<name>.<kind> as …`, exactly how a dropped-in module is seen.
# Test packages live outside segmentation.rules: a package there is a rule module.
package segmentation_test

import data.segmentation

# Every test goes through this one `with` site: the embedded engine compiles each site
# separately (about a second each), so tests that write their own `with` clauses are slow.
# Input is set key by key: replacing the whole input in one `with` crashes the engine.
decide(overrides) := decision if {
	case := object.union(base_case, overrides)
	decision := segmentation.decision with input.context as case.context
		with input.categories as case.categories
		with input.entity_types as case.entity_types
		with input.findings as case.findings
		with data.segmentation.rules.extra.isolation as case.isolation
		with data.segmentation.rules.extra.exclusions as case.exclusions
		with data.segmentation.rules.extra.obligations as case.obligations
		with data.catalog.endpoints as case.endpoints
}

base_case := {
	"context": {}, "categories": [], "entity_types": [], "findings": [],
	"isolation": [], "exclusions": [], "obligations": [],
	"endpoints": endpoints,
}

decide_with_extra(isolation, exclusions, obligations, endpoints) := decide({
	"isolation": isolation, "exclusions": exclusions,
	"obligations": obligations, "endpoints": endpoints,
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

test_shipped_modules_and_extra_module_combine if {
	d := decide({
		"categories": ["pii"], "entity_types": ["EMAIL_ADDRESS"],
		"isolation": [contribution("x.extra", "on_prem_only")],
	})
	d.segment == "on_prem_only"
	[r.rule | some r in d.reasons] == ["isolation.contact_pii", "x.extra"]
}

# ------------------------------------------------------------------ shipped modules together

test_sensitive_pii_beats_contact_pii if {
	d := decide({"categories": ["pii"], "entity_types": ["EMAIL_ADDRESS", "US_SSN"]})
	d.segment == "on_prem_only"
	[r.rule | some r in d.reasons] == ["isolation.contact_pii", "isolation.sensitive_pii"]
}

test_contact_pii_alone_is_trusted_hosted if {
	decide({"categories": ["pii"], "entity_types": ["PHONE_NUMBER"]}).segment == "trusted_hosted"
}

test_declared_public_cannot_loosen if {
	d := decide({"context": {"declared_classification": "public"}, "categories": ["pii"], "entity_types": ["US_SSN"]})
	d.segment == "on_prem_only"
}

test_declared_internal_tightens_clean_content if {
	decide({"context": {"declared_classification": "internal"}}).segment == "trusted_hosted"
}

test_declared_internal_and_secret_is_on_prem_only if {
	d := decide({
		"context": {"declared_classification": "internal"},
		"categories": ["secret"],
		"findings": [{"type": "PRIVATE_KEY", "category": "secret", "count": 1, "max_score": 1, "detector": "t"}],
	})
	d.segment == "on_prem_only"
	d.reasons == [
		{"rule": "classification.declared", "segment": "trusted_hosted", "message": "declared classification internal requires trusted_hosted"},
		{"rule": "isolation.secrets", "segment": "on_prem_only", "message": "PRIVATE_KEY found: secrets stay on-prem"},
	]
}

test_unknown_classification_fails_closed if {
	d := decide({"context": {"declared_classification": "eyes-only"}})
	d.segment == "on_prem_only"
	[r.rule | some r in d.reasons] == ["classification.unknown"]
}

test_provenance_exclusions_reach_the_decision if {
	d := decide({"endpoints": [
		{"id": "good", "deployment": "public_hosted", "vendor": "OpenAI"},
		{"id": "unknown-vendor", "deployment": "public_hosted", "vendor": "Acme AI"},
	]})
	d.segment == "any"
	d.excluded == [{
		"endpoint": "unknown-vendor",
		"rule": "provenance.unapproved_vendor",
		"message": "hosted endpoint of vendor Acme AI, which is not approved",
	}]
}
