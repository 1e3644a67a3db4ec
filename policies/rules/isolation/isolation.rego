# Isolation by what the content contains: secrets, IP markers, source code and personal data.
#
# Contributes segment floors to `isolation` (see policies/segmentation.rego). Policies only
# ever see entity types and categories, never the matched values, and so do the messages.
# Helpers are functions and lists are arrays: with the embedded engine every rule of a
# package is evaluated on each decision, and sets cost far more to build than arrays.
# (`value in [constant array]` is fine; it is `"x" in input.y` that this project avoids.)
package segmentation.rules.isolation

isolation contains reason("isolation.secrets", "on_prem_only", types_in("secret"), "secrets stay on-prem") if {
	found("secret")
}

isolation contains reason(
	"isolation.ip_markers", "on_prem_only", types_in("ip_marker"),
	"marked intellectual property stays on-prem",
) if {
	found("ip_marker")
}

isolation contains reason(
	"isolation.source_code", "on_prem_only", types_in("source_code"),
	"source code stays on-prem",
) if {
	found("source_code")
}

isolation contains reason(
	"isolation.sensitive_pii", "on_prem_only", types,
	"sensitive personal data stays on-prem",
) if {
	types := {t | some t in input.entity_types; sensitive_pii(t)}
	count(types) > 0
}

isolation contains reason(
	"isolation.contact_pii", "trusted_hosted", types,
	"personal data goes only to vendors under contract",
) if {
	types := {t | some t in input.entity_types; contact_pii(t)}
	count(types) > 0
}

# Personal data whose leak is a serious harm on its own: identity, financial, health and
# government numbers. Kept on-prem.
sensitive_pii(entity_type) if {
	entity_type in [
		"US_SSN", "US_ITIN", "US_PASSPORT", "US_BANK_NUMBER", "US_DRIVER_LICENSE",
		"CREDIT_CARD", "IBAN_CODE", "CRYPTO", "UK_NHS", "UK_NINO", "MEDICAL_LICENSE",
		"AU_ABN", "AU_ACN", "AU_TFN", "AU_MEDICARE",
		"ES_NIF", "ES_NIE", "FI_PERSONAL_IDENTITY_CODE",
		"IN_AADHAAR", "IN_PAN", "IN_PASSPORT", "IN_VOTER",
		"IT_FISCAL_CODE", "IT_DRIVER_LICENSE", "IT_PASSPORT", "IT_IDENTITY_CARD",
		"KR_RRN", "PL_PESEL", "SG_NRIC_FIN", "TH_TNIN",
	]
}

# Personal data that identifies or reaches a person: may go to a vendor under contract.
# A street address (one span for street, town and postal code) is where a person lives or
# receives mail: contact data, like a phone number.
contact_pii(entity_type) if {
	entity_type in ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "LOCATION", "IP_ADDRESS", "STREET_ADDRESS"]
}

found(category) if {
	some c in input.categories
	c == category
}

# Entity types of the findings of one category; the category itself when none are listed.
types_in(category) := types if {
	types := {f.type | some f in input.findings; f.category == category}
	count(types) > 0
} else := {category}

# A contribution whose message names the entity types found (sorted), never values.
reason(rule, segment, types, why) := {
	"rule": rule,
	"segment": segment,
	"message": concat("", [concat(", ", sort(types)), " found: ", why]),
}
