# An opt-in rule: a request that carries an image (or audio, a file, a document sent as
# data), which no detector can read, may go to trusted hosted endpoints at most.
# Copy it into your policy directory (PE_POLICIES_DIR) to use it; by default an image does
# not change the decision either way (the text findings decide).
package segmentation.rules.unscanned

import rego.v1

isolation contains {
	"rule": "unscanned.content_stays_trusted",
	"segment": "trusted_hosted",
	"message": sprintf("the request carries content that could not be scanned (%s)", [item.kind]),
} if {
	some item in input.unscanned
}
