# Tests of policies/rules/isolation; how the core combines modules is tested in
# policies/segmentation_test.rego, whole decisions by YAML cases (decisions_test.yaml).
# Input is set key by key (`with input.categories as …`): replacing the whole input
# document in one `with` crashes the embedded engine.
package segmentation_test.rules.isolation

import data.segmentation.rules.isolation

isolation_of(categories, entity_types, findings) := result if {
	result := isolation.isolation with input.categories as categories
		with input.entity_types as entity_types
		with input.findings as findings
}

rules_of(contributions) := {c.rule | some c in contributions}

finding(entity_type, category) := {
	"type": entity_type, "category": category, "count": 1,
	"max_score": 1, "detector": "test",
}

test_nothing_found_contributes_nothing if {
	count(isolation_of([], [], [])) == 0
}

test_secret_named_by_type if {
	isolation_of(["secret"], ["AWS_ACCESS_KEY"], [finding("AWS_ACCESS_KEY", "secret")]) == {{
		"rule": "isolation.secrets",
		"segment": "on_prem_only",
		"message": "AWS_ACCESS_KEY found: secrets stay on-prem",
	}}
}

test_secret_without_findings_named_by_category if {
	some c in isolation_of(["secret"], [], [])
	c.message == "secret found: secrets stay on-prem"
}

test_ip_marker if {
	isolation_of(["ip_marker"], ["IP_MARKER"], [finding("IP_MARKER", "ip_marker")]) == {{
		"rule": "isolation.ip_markers",
		"segment": "on_prem_only",
		"message": "IP_MARKER found: marked intellectual property stays on-prem",
	}}
}

test_source_code if {
	isolation_of(["source_code"], ["SOURCE_CODE"], [finding("SOURCE_CODE", "source_code")]) == {{
		"rule": "isolation.source_code",
		"segment": "on_prem_only",
		"message": "SOURCE_CODE found: source code stays on-prem",
	}}
}

test_sensitive_pii_names_sorted_types if {
	isolation_of(["pii"], ["US_SSN", "CREDIT_CARD"], []) == {{
		"rule": "isolation.sensitive_pii",
		"segment": "on_prem_only",
		"message": "CREDIT_CARD, US_SSN found: sensitive personal data stays on-prem",
	}}
}

test_every_listed_sensitive_type_fires if {
	listed := [
		"US_SSN", "CREDIT_CARD", "IBAN_CODE", "US_PASSPORT", "US_ITIN", "US_BANK_NUMBER",
		"US_DRIVER_LICENSE", "UK_NHS", "MEDICAL_LICENSE", "CRYPTO",
	]
	some c in isolation_of(["pii"], listed, [])
	c.rule == "isolation.sensitive_pii"
	c.message == concat("", [concat(", ", sort(listed)), " found: sensitive personal data stays on-prem"])
}

test_contact_pii if {
	isolation_of(["pii"], ["PERSON", "EMAIL_ADDRESS"], []) == {{
		"rule": "isolation.contact_pii",
		"segment": "trusted_hosted",
		"message": "EMAIL_ADDRESS, PERSON found: personal data goes only to vendors under contract",
	}}
}

test_every_listed_contact_type_fires if {
	listed := ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "LOCATION", "IP_ADDRESS"]
	some c in isolation_of(["pii"], listed, [])
	c.message == "EMAIL_ADDRESS, IP_ADDRESS, LOCATION, PERSON, PHONE_NUMBER found: personal data goes only to vendors under contract"
}

test_street_address_is_contact_pii if {
	isolation_of(["pii"], ["STREET_ADDRESS"], []) == {{
		"rule": "isolation.contact_pii",
		"segment": "trusted_hosted",
		"message": "STREET_ADDRESS found: personal data goes only to vendors under contract",
	}}
}

test_street_address_with_sensitive_pii_stays_on_prem if {
	rules_of(isolation_of(["pii"], ["STREET_ADDRESS", "US_SSN"], [])) == {"isolation.sensitive_pii", "isolation.contact_pii"}
}

test_other_pii_types_do_not_fire if {
	count(isolation_of(["pii"], ["DATE_TIME", "URL", "NRP"], [])) == 0
}

test_pii_category_alone_does_not_fire if {
	count(isolation_of(["pii"], [], [])) == 0
}

test_sensitive_and_contact_both_reported if {
	rules_of(isolation_of(["pii"], ["US_SSN", "PERSON"], [])) == {"isolation.sensitive_pii", "isolation.contact_pii"}
}

test_all_categories if {
	rules_of(isolation_of(["ip_marker", "pii", "secret", "source_code"], ["US_SSN", "PERSON"], [])) == {
		"isolation.secrets", "isolation.ip_markers", "isolation.source_code",
		"isolation.sensitive_pii", "isolation.contact_pii",
	}
}
