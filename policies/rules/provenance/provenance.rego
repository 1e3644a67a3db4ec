# Provenance of the endpoints in the catalog (data.catalog.endpoints): an endpoint whose
# origin cannot be verified is excluded, whatever the segment.
#
#   on_prem          weights pinned by sha256 and downloaded from a trusted source
#   trusted_hosted   an approved vendor with a DPA and zero data retention
#   public_hosted    an approved vendor
#
# Written as one pass over the catalog with a check table, which the embedded engine
# evaluates much faster than one partial rule per check. (It reads only data.catalog, so
# the embedded evaluator also computes it once at load; see policy_engine/policy/folding.py.)
package segmentation.rules.provenance

exclusions := {{"endpoint": endpoint.id, "rule": check, "message": message(check, endpoint)} |
	some endpoint in data.catalog.endpoints
	some check in checks(object.get(endpoint, "deployment", null))
	fails(check, endpoint)
}

# ------------------------------------------------------------------ what each class must pass

checks("on_prem") := ["provenance.unverified_weights", "provenance.untrusted_source"]

checks("trusted_hosted") := [
	"provenance.unapproved_vendor",
	"provenance.no_dpa",
	"provenance.no_zero_data_retention",
]

checks("public_hosted") := ["provenance.unapproved_vendor"]

checks(deployment) := ["provenance.unknown_deployment"] if not known_deployment(deployment)

known_deployment(deployment) if deployment in ["on_prem", "trusted_hosted", "public_hosted"]

# ------------------------------------------------------------------ the checks

fails("provenance.unverified_weights", endpoint) if not pinned(endpoint)

fails("provenance.untrusted_source", endpoint) if not trusted_source(endpoint)

fails("provenance.unapproved_vendor", endpoint) if not approved_vendor(endpoint)

fails("provenance.no_dpa", endpoint) if not signed_dpa(endpoint)

fails("provenance.no_zero_data_retention", endpoint) if not zero_data_retention(endpoint)

fails("provenance.unknown_deployment", _) := true

message("provenance.unverified_weights", _) := "on-prem weights digest not pinned (provenance.weights_sha256: 64 lowercase hex)"

message("provenance.untrusted_source", _) := "on-prem weights source is not a trusted source (provenance.weights_source)"

message("provenance.unapproved_vendor", endpoint) := concat("", [
	"hosted endpoint of vendor ", vendor_name(endpoint), ", which is not approved",
])

message("provenance.no_dpa", _) := "trusted_hosted endpoint without a data processing agreement (provenance.dpa)"

message("provenance.no_zero_data_retention", _) := "trusted_hosted endpoint without zero data retention (provenance.zero_data_retention)"

message("provenance.unknown_deployment", _) := "unknown deployment class (expected on_prem, trusted_hosted or public_hosted)"

# ------------------------------------------------------------------ trust lists

pinned(endpoint) if regex.match(`^[0-9a-f]{64}$`, endpoint.provenance.weights_sha256)

# Where on-prem weights may come from: prefixes of provenance.weights_source, with or
# without https://. A source climbing out of its prefix ("..") is never trusted.
trusted_source(endpoint) if {
	source := trim_prefix(endpoint.provenance.weights_source, "https://")
	not contains(source, "..")
	some prefix in [
		"huggingface.co/Qwen/",
		"huggingface.co/deepseek-ai/",
		"huggingface.co/zai-org/",
		"huggingface.co/THUDM/",
		"huggingface.co/meta-llama/",
		"huggingface.co/mistralai/",
	]
	startswith(source, prefix)
}

# Vendors whose hosted endpoints may be used at all.
approved_vendor(endpoint) if {
	endpoint.vendor in ["OpenAI", "DeepSeek", "Alibaba Cloud", "Zhipu AI", "Together AI", "Fireworks AI"]
}

signed_dpa(endpoint) if endpoint.provenance.dpa == true

zero_data_retention(endpoint) if endpoint.provenance.zero_data_retention == true

vendor_name(endpoint) := endpoint.vendor if {
	is_string(endpoint.vendor)
} else := "(none)"
