# Tests of policies/rules/classification; how the core combines modules is tested in
# policies/segmentation_test.rego, whole decisions by YAML cases (decisions_test.yaml).
package segmentation_test.rules.classification

import data.segmentation.rules.classification

contributions_for(context) := result if {
	result := classification.isolation with input.context as context
}

classification_of(label) := contributions_for({"declared_classification": label})

segments_of(contributions) := {c.segment | some c in contributions}

test_public_contributes_nothing if {
	count(classification_of("public")) == 0
}

test_absent_contributes_nothing if {
	count(contributions_for({})) == 0
}

test_empty_contributes_nothing if {
	count(classification_of("  ")) == 0
}

test_null_contributes_nothing if {
	count(classification_of(null)) == 0
}

test_internal_is_trusted_hosted if {
	classification_of("internal") == {{
		"rule": "classification.declared",
		"segment": "trusted_hosted",
		"message": "declared classification internal requires trusted_hosted",
	}}
}

test_confidential_is_on_prem_only if {
	segments_of(classification_of("confidential")) == {"on_prem_only"}
}

test_restricted_is_on_prem_only if {
	segments_of(classification_of("restricted")) == {"on_prem_only"}
}

test_secret_is_on_prem_only if {
	segments_of(classification_of("secret")) == {"on_prem_only"}
}

test_case_and_spaces_ignored if {
	some c in classification_of("  Confidential ")
	c.message == "declared classification confidential requires on_prem_only"
}

test_unknown_label_fails_closed_without_echo if {
	result := classification_of("Top-Secret-Ultra")
	result == {{
		"rule": "classification.unknown",
		"segment": "on_prem_only",
		"message": "declared classification is not one this policy knows: treated as on_prem_only (fail closed)",
	}}
}

test_non_string_label_fails_closed if {
	segments_of(classification_of(3)) == {"on_prem_only"}
}
