# Masking contact data (an add-on: copy this directory into policies/rules/).
#
# The shipped isolation rules send contact data (isolation.contact_pii) only to trusted
# hosted endpoints. For the applications listed here this module adds a redact obligation
# for each contact type found, so that those vendors see placeholders, never the values:
# the routing proxy masks before forwarding and restores the values in the answer
# (docs/proxy.md). A gateway that calls POST /decide itself must honour the obligations
# the same way.
package segmentation.rules.masking

obligations contains concat("", ["redact:", entity_type]) if {
	input.context.application in masked_applications
	some entity_type in input.entity_types
	masked_contact(entity_type)
}

# Applications whose contact data is masked on its way out.
masked_applications := ["support-bot", "crm-assistant"]

masked_contact(entity_type) if entity_type in ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"]
