package segmentation_test.rules.unscanned

import rego.v1

import data.segmentation.rules.unscanned

test_an_image_keeps_the_request_off_public_endpoints if {
	some reason in unscanned.isolation with input.unscanned as [{"kind": "image", "message": 0, "path": "content.1.image_url"}]
	reason.segment == "trusted_hosted"
	reason.message == "the request carries content that could not be scanned (image)"
}

test_text_only_requests_are_left_alone if {
	count(unscanned.isolation) == 0 with input.unscanned as []
}
