# The caller's declared classification (input.context.declared_classification) can only
# tighten the segment, never loosen it. Matching ignores case and surrounding spaces.
# A value this module does not know fails closed (on_prem_only) and is not echoed: it is
# free text from the caller.
package segmentation.rules.classification

isolation contains {
	"rule": "classification.declared",
	"segment": segment,
	"message": concat("", ["declared classification ", label, " requires ", segment]),
} if {
	label := declared(input.context.declared_classification)
	segment := required_segment(label)
	segment != "any"
}

isolation contains {
	"rule": "classification.unknown",
	"segment": "on_prem_only",
	"message": "declared classification is not one this policy knows: treated as on_prem_only (fail closed)",
} if {
	label := declared(input.context.declared_classification)
	label != ""
	not required_segment(label)
}

# The segment each classification requires.
required_segment(label) := "any" if label == "public"

required_segment(label) := "trusted_hosted" if label == "internal"

required_segment(label) := "on_prem_only" if label in ["confidential", "restricted", "secret"]

# The normalized label; a value that is present but not a string is not understood.
declared(value) := lower(trim_space(value)) if {
	is_string(value)
} else := "(not a string)" if {
	value != null
}
