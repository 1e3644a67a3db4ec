# Tests of the masking example module (examples/policies/masking).
package segmentation_test.rules.masking

import data.segmentation.rules.masking

obligations_of(application, entity_types) := obligations if {
	obligations := masking.obligations with input.entity_types as entity_types
		with input.context as {"application": application}
}

test_each_contact_type_found_is_masked if {
	obligations_of("support-bot", ["EMAIL_ADDRESS", "PERSON", "US_SSN"]) == {"redact:EMAIL_ADDRESS", "redact:PERSON"}
}

test_phone_numbers_are_masked if {
	obligations_of("crm-assistant", ["PHONE_NUMBER"]) == {"redact:PHONE_NUMBER"}
}

test_nothing_found_masks_nothing if {
	count(obligations_of("support-bot", [])) == 0
}

test_other_types_are_not_masked if {
	count(obligations_of("support-bot", ["LOCATION", "US_SSN"])) == 0
}

test_other_applications_are_not_masked if {
	count(obligations_of("analytics", ["EMAIL_ADDRESS"])) == 0
}
